# Semantic FPN-EfficientViT-M3: the M4 config with the M3 backbone.
_base_ = './fpn_efficientvit_m4_512x512_40k_ade20k.py'

model = dict(
    backbone=dict(
        arch='m3',
        init_cfg=dict(checkpoint='checkpoints/efficientvit_m3_in1k.pth')),
    neck=dict(in_channels=[128, 240, 320]))
