# Semantic FPN-EfficientFormerV2-L: the S2 config with the L backbone.
_base_ = './fpn_efficientformerv2_s2_512x512_40k_ade20k.py'

model = dict(
    backbone=dict(
        arch='l',
        init_cfg=dict(checkpoint='checkpoints/efficientformerv2_l_in1k.pth')),
    neck=dict(in_channels=[40, 80, 192, 384]))
