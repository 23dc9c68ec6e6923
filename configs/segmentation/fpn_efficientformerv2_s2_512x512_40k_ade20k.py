# Semantic FPN with EfficientFormerV2-S2: the EfficientFormer-L1 config with V2's backbone and
# its BatchNorm on each returned stage.
_base_ = './fpn_efficientformer_l1_512x512_40k_ade20k.py'

pretrained = 'checkpoints/efficientformerv2_s2_in1k.pth'

model = dict(
    backbone=dict(
        type='EfficientFormerV2',
        arch='s2',
        out_norm_cfg=dict(_delete_=True, type='BN'),
        init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[32, 64, 144, 288]))
