# Semantic FPN-EfficientFormer-L3: the L1 config with the L3 backbone.
_base_ = './fpn_efficientformer_l1_512x512_40k_ade20k.py'

model = dict(
    backbone=dict(
        arch='l3',
        init_cfg=dict(checkpoint='checkpoints/efficientformer_l3_in1k.pth')),
    neck=dict(in_channels=[64, 128, 320, 512]))
