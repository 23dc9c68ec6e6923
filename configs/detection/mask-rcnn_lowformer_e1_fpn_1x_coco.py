# Mask R-CNN-LowFormer-E1: the B1 config with the E1 backbone.
_base_ = './mask-rcnn_lowformer_b1_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        arch='e1',
        init_cfg=dict(checkpoint='checkpoints/lowformer_e1_in1k.pth')),
    neck=dict(in_channels=[40, 80, 160, 320]))
