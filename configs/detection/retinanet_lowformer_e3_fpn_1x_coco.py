# RetinaNet-LowFormer-E3: the B1 config with the E3 backbone.
_base_ = './retinanet_lowformer_b1_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        arch='e3',
        init_cfg=dict(checkpoint='checkpoints/lowformer_e3_in1k.pth')),
    neck=dict(in_channels=[128, 256, 512]))
