# The EfficientFormer-L1 swap of mask-rcnn_lowformer_b1_shapes.py: same data and schedule, the
# backbone of mask-rcnn_efficientformer_l1_fpn_1x_coco.py, trained from scratch.
_base_ = './mask-rcnn_lowformer_b1_shapes.py'

model = dict(
    backbone=dict(_delete_=True, type='EfficientFormer', arch='l1', out_indices=(0, 1, 2, 3),
                  out_norm_cfg=dict(type='GN', num_groups=1)),
    neck=dict(in_channels=[48, 96, 224, 448]))
