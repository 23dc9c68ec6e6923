# Semantic FPN-EfficientViT-M1: the M4 config with the M1 backbone.
_base_ = './fpn_efficientvit_m4_512x512_40k_ade20k.py'

model = dict(
    backbone=dict(
        arch='m1',
        init_cfg=dict(checkpoint='checkpoints/efficientvit_m1_in1k.pth')),
    neck=dict(in_channels=[128, 144, 192]))
