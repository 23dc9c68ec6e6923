# Semantic FPN with EfficientFormerV2-S2: the EfficientFormer-L1 config with V2's backbone and
# its BatchNorm on each returned stage.
_base_ = [
    './fpn_efficientformer_l1_512x512_40k_ade20k.py',
    '../_base_/backbones/efficientformerv2_s2.py',
]

model = dict(
    backbone=dict(_base_.efficientformerv2_s2_backbone,
                  out_norm_cfg=dict(_delete_=True, type='BN')),
    neck=dict(in_channels=[32, 64, 144, 288]))
