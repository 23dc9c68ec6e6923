# Semantic FPN with EfficientFormer-L1 (GroupNorm on each output stage, as its paper).
_base_ = './fpn_lowformer_b1_512x512_40k_ade20k.py'

pretrained = 'checkpoints/efficientformer_l1_in1k.pth'

model = dict(
    backbone=dict(
        _delete_=True,
        type='EfficientFormer',
        arch='l1',
        out_indices=(0, 1, 2, 3),
        out_norm_cfg=dict(type='GN', num_groups=1),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[48, 96, 224, 448]))
