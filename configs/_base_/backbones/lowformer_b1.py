# LowFormer-B1 (stages of 32/64/128/256 channels at strides 4..32) as every LowFormer-B1 task
# config starts it: ImageNet weights in any LowFormer layout (official, timm or converted by
# tools/convert_checkpoint.py; hub downloads are not attempted), stochastic depth 0.1. A task
# config adds the stages it returns and its own settings (frozen BN statistics, ...).
lowformer_b1_backbone = dict(
    type='LowFormer', arch='b1', drop_path_rate=0.1,
    init_cfg=dict(type='Pretrained', checkpoint='checkpoints/lowformer_b1_in1k.pth',
                  prefix='backbone.'))
