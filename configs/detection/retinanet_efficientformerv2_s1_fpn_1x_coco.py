# RetinaNet-EfficientFormerV2-S1: the S2 config with the S1 backbone.
_base_ = './retinanet_efficientformerv2_s2_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        arch='s1',
        init_cfg=dict(checkpoint='checkpoints/efficientformerv2_s1_in1k.pth')),
    neck=dict(in_channels=[48, 120, 224]))
