# Semantic FPN-LowFormer-B0: the B1 config with the B0 backbone.
_base_ = './fpn_lowformer_b1_512x512_40k_ade20k.py'

model = dict(
    backbone=dict(
        arch='b0',
        init_cfg=dict(checkpoint='checkpoints/lowformer_b0_in1k.pth')),
    neck=dict(in_channels=[32, 64, 128, 256]))
