# The EfficientFormer-L1 swap of fpn_lowformer_b1_shapes.py: same data and schedule, the
# backbone of fpn_efficientformer_l1_512x512_40k_ade20k.py, trained from scratch.
_base_ = './fpn_lowformer_b1_shapes.py'

model = dict(
    backbone=dict(_delete_=True, type='EfficientFormer', arch='l1', out_indices=(0, 1, 2, 3),
                  out_norm_cfg=dict(type='GN', num_groups=1)),
    neck=dict(in_channels=[48, 96, 224, 448]))
