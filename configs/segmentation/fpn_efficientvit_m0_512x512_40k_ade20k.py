# Semantic FPN-EfficientViT-M0: the M4 config with the M0 backbone.
_base_ = './fpn_efficientvit_m4_512x512_40k_ade20k.py'

model = dict(
    backbone=dict(
        arch='m0',
        init_cfg=dict(checkpoint='checkpoints/efficientvit_m0_in1k.pth')),
    neck=dict(in_channels=[64, 128, 192]))
