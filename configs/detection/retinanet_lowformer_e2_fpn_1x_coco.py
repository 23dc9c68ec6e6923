# RetinaNet-LowFormer-E2: the B1 config with the E2 backbone.
_base_ = './retinanet_lowformer_b1_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        arch='e2',
        init_cfg=dict(checkpoint='checkpoints/lowformer_e2_in1k.pth')),
    neck=dict(in_channels=[128, 256, 512]))
