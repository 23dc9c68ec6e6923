# RetinaNet-EfficientViT-M0: the M4 config with the M0 backbone.
_base_ = './retinanet_efficientvit_m4_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        arch='m0',
        init_cfg=dict(checkpoint='checkpoints/efficientvit_m0_in1k.pth')),
    neck=dict(in_channels=[64, 128, 192]))
