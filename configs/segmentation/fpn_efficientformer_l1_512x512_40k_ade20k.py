# Semantic FPN with EfficientFormer-L1 (GroupNorm on each output stage, as its paper).
_base_ = ['./fpn_lowformer_b1_512x512_40k_ade20k.py', '../_base_/backbones/efficientformer_l1.py']

model = dict(
    backbone=dict(_base_.efficientformer_l1_backbone, _delete_=True, out_indices=(0, 1, 2, 3),
                  out_norm_cfg=dict(type='GN', num_groups=1)),
    neck=dict(in_channels=[48, 96, 224, 448]))
