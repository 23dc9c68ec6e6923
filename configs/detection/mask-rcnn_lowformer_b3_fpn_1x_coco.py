# Mask R-CNN-LowFormer-B3: the B1 config with the B3 backbone.
_base_ = './mask-rcnn_lowformer_b1_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        arch='b3',
        init_cfg=dict(checkpoint='checkpoints/lowformer_b3_in1k.pth')),
    neck=dict(in_channels=[64, 128, 256, 512]))
