# Semantic FPN-LowFormer-B1.5: the B1 config with the B1.5 backbone.
_base_ = './fpn_lowformer_b1_512x512_40k_ade20k.py'

model = dict(
    backbone=dict(
        arch='b15',
        init_cfg=dict(checkpoint='checkpoints/lowformer_b15_in1k.pth')),
    neck=dict(in_channels=[40, 80, 160, 320]))
