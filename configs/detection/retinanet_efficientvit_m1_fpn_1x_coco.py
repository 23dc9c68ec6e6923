# RetinaNet-EfficientViT-M1: the M4 config with the M1 backbone.
_base_ = './retinanet_efficientvit_m4_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        arch='m1',
        init_cfg=dict(checkpoint='checkpoints/efficientvit_m1_in1k.pth')),
    neck=dict(in_channels=[128, 144, 192]))
