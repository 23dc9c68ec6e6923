# Semantic FPN-EfficientFormerV2-S0: the S2 config with the S0 backbone.
_base_ = './fpn_efficientformerv2_s2_512x512_40k_ade20k.py'

model = dict(
    backbone=dict(
        arch='s0',
        init_cfg=dict(checkpoint='checkpoints/efficientformerv2_s0_in1k.pth')),
    neck=dict(in_channels=[32, 48, 96, 176]))
