# RetinaNet-EfficientFormer-L7: the L1 config with the L7 backbone.
_base_ = './retinanet_efficientformer_l1_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        arch='l7',
        init_cfg=dict(checkpoint='checkpoints/efficientformer_l7_in1k.pth')),
    neck=dict(in_channels=[192, 384, 768]))
