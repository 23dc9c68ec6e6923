# RetinaNet-LowFormer-B1.5: the B1 config with the B1.5 backbone.
_base_ = './retinanet_lowformer_b1_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        arch='b15',
        init_cfg=dict(checkpoint='checkpoints/lowformer_b15_in1k.pth')),
    neck=dict(in_channels=[80, 160, 320]))
