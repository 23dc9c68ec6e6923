# Semantic FPN-EfficientViT-M5: the M4 config with the M5 backbone.
_base_ = './fpn_efficientvit_m4_512x512_40k_ade20k.py'

model = dict(
    backbone=dict(
        arch='m5',
        init_cfg=dict(checkpoint='checkpoints/efficientvit_m5_in1k.pth')),
    neck=dict(in_channels=[192, 288, 384]))
