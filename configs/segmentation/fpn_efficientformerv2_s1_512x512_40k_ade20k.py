# Semantic FPN-EfficientFormerV2-S1: the S2 config with the S1 backbone.
_base_ = './fpn_efficientformerv2_s2_512x512_40k_ade20k.py'

model = dict(
    backbone=dict(
        arch='s1',
        init_cfg=dict(checkpoint='checkpoints/efficientformerv2_s1_in1k.pth')),
    neck=dict(in_channels=[32, 48, 120, 224]))
