# RetinaNet-EfficientViT-M3: the M4 config with the M3 backbone.
_base_ = './retinanet_efficientvit_m4_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        arch='m3',
        init_cfg=dict(checkpoint='checkpoints/efficientvit_m3_in1k.pth')),
    neck=dict(in_channels=[128, 240, 320]))
