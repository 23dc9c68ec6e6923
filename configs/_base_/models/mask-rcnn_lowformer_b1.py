# Mask R-CNN with a LowFormer-B1 backbone: FPN over all four stages (strides 4..32).
_base_ = ['mmdet::_base_/models/mask-rcnn_r50_fpn.py', '../backbones/lowformer_b1.py']

model = dict(
    backbone=dict(_base_.lowformer_b1_backbone, _delete_=True, out_indices=(0, 1, 2, 3),
                  norm_eval=True),
    neck=dict(in_channels=[32, 64, 128, 256]))
