# Mask R-CNN-EfficientViT-M5: the M4 config with the M5 backbone.
_base_ = './mask-rcnn_efficientvit_m4_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        arch='m5',
        init_cfg=dict(checkpoint='checkpoints/efficientvit_m5_in1k.pth')),
    neck=dict(in_channels=[192, 288, 384]))
