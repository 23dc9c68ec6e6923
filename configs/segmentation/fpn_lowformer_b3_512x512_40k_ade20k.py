# Semantic FPN-LowFormer-B3: the B1 config with the B3 backbone.
_base_ = './fpn_lowformer_b1_512x512_40k_ade20k.py'

model = dict(
    backbone=dict(
        arch='b3',
        init_cfg=dict(checkpoint='checkpoints/lowformer_b3_in1k.pth')),
    neck=dict(in_channels=[64, 128, 256, 512]))
