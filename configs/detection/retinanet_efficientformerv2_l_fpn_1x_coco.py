# RetinaNet-EfficientFormerV2-L: the S2 config with the L backbone.
_base_ = './retinanet_efficientformerv2_s2_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        arch='l',
        init_cfg=dict(checkpoint='checkpoints/efficientformerv2_l_in1k.pth')),
    neck=dict(in_channels=[80, 192, 384]))
