# EfficientFormer-L1 (stages of 48/96/224/448 channels at strides 4..32) from its ImageNet
# weights. A task config adds the stages it returns and its protocol (the GroupNorm on each
# returned stage of the detection and segmentation configs).
efficientformer_l1_backbone = dict(
    type='EfficientFormer', arch='l1',
    init_cfg=dict(type='Pretrained', checkpoint='checkpoints/efficientformer_l1_in1k.pth',
                  prefix='backbone.'))
