# Semantic FPN-LowFormer-E3: the B1 config with the E3 backbone.
_base_ = './fpn_lowformer_b1_512x512_40k_ade20k.py'

model = dict(
    backbone=dict(
        arch='e3',
        init_cfg=dict(checkpoint='checkpoints/lowformer_e3_in1k.pth')),
    neck=dict(in_channels=[64, 128, 256, 512]))
