# Semantic FPN-EfficientViT-M2: the M4 config with the M2 backbone.
_base_ = './fpn_efficientvit_m4_512x512_40k_ade20k.py'

model = dict(
    backbone=dict(
        arch='m2',
        init_cfg=dict(checkpoint='checkpoints/efficientvit_m2_in1k.pth')),
    neck=dict(in_channels=[128, 192, 224]))
