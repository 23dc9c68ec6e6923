# Semantic FPN-EfficientFormer-L7: the L1 config with the L7 backbone.
_base_ = './fpn_efficientformer_l1_512x512_40k_ade20k.py'

model = dict(
    backbone=dict(
        arch='l7',
        init_cfg=dict(checkpoint='checkpoints/efficientformer_l7_in1k.pth')),
    neck=dict(in_channels=[96, 192, 384, 768]))
