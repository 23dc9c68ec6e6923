# RetinaNet-EfficientFormer-L1, 1x COCO: the LowFormer-B1 config with the backbone swapped.
# EfficientFormer's downstream protocol: a GroupNorm on each returned stage, AdamW 2e-4
# (weight decay 1e-4, none on the attention biases).
_base_ = ['./retinanet_lowformer_b1_fpn_1x_coco.py', '../_base_/backbones/efficientformer_l1.py']

model = dict(
    backbone=dict(_base_.efficientformer_l1_backbone, _delete_=True, out_indices=(1, 2, 3),
                  out_norm_cfg=dict(type='GN', num_groups=1)),
    neck=dict(in_channels=[96, 224, 448]))

optim_wrapper = dict(
    optimizer=dict(lr=2e-4),
    paramwise_cfg=dict(custom_keys={'pos_bias': dict(decay_mult=0.)}))
