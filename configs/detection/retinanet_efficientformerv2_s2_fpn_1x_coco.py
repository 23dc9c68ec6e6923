# RetinaNet-EfficientFormerV2-S2, 1x COCO: the EfficientFormer-L1 config with V2's backbone,
# whose reference puts a BatchNorm (not V1's GroupNorm) on each returned stage; weight decay
# 0.05 as V2's detection configs.
_base_ = [
    './retinanet_efficientformer_l1_fpn_1x_coco.py',
    '../_base_/backbones/efficientformerv2_s2.py',
]

model = dict(
    backbone=dict(_base_.efficientformerv2_s2_backbone,
                  out_norm_cfg=dict(_delete_=True, type='BN')),
    neck=dict(in_channels=[64, 144, 288]))

optim_wrapper = dict(optimizer=dict(weight_decay=0.05))
