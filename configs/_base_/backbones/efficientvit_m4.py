# EfficientViT-M4 (MSRA; stages of 128/256/384 channels at strides 16/32/64) from its ImageNet
# weights. A task config adds the stages it returns and its protocol.
efficientvit_m4_backbone = dict(
    type='EfficientViTMSRA', arch='m4',
    init_cfg=dict(type='Pretrained', checkpoint='checkpoints/efficientvit_m4_in1k.pth',
                  prefix='backbone.'))
