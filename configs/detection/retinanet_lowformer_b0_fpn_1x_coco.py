# RetinaNet-LowFormer-B0: the B1 config with the B0 backbone.
_base_ = './retinanet_lowformer_b1_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        arch='b0',
        init_cfg=dict(checkpoint='checkpoints/lowformer_b0_in1k.pth')),
    neck=dict(in_channels=[64, 128, 256]))
