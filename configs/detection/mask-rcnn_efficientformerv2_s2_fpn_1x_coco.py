# Mask R-CNN-EfficientFormerV2-S2, 1x COCO, V2's protocol: a BatchNorm on each returned stage,
# AdamW 2e-4, weight decay 0.05.
_base_ = [
    './mask-rcnn_efficientformer_l1_fpn_1x_coco.py',
    '../_base_/backbones/efficientformerv2_s2.py',
]

model = dict(
    backbone=dict(_base_.efficientformerv2_s2_backbone,
                  out_norm_cfg=dict(_delete_=True, type='BN')),
    neck=dict(in_channels=[32, 64, 144, 288]))

optim_wrapper = dict(optimizer=dict(weight_decay=0.05))
