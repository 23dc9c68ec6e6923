# EfficientFormerV2-S2 (stages of 32/64/144/288 channels at strides 4..32) from its ImageNet
# weights, for the configs that swap it into an EfficientFormer-L1 config.
efficientformerv2_s2_backbone = dict(
    type='EfficientFormerV2', arch='s2',
    init_cfg=dict(type='Pretrained', checkpoint='checkpoints/efficientformerv2_s2_in1k.pth',
                  prefix='backbone.'))
