# RetinaNet with an EfficientFormer-L1 backbone, 1x COCO. EfficientFormer's downstream protocol:
# a GroupNorm on each returned stage, AdamW 2e-4 (weight decay 1e-4, none on attention biases).
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/mmlow.py',
]

pretrained = 'checkpoints/efficientformer_l1_in1k.pth'

model = dict(
    backbone=dict(
        _delete_=True,
        type='EfficientFormer',
        arch='l1',
        out_indices=(1, 2, 3),
        out_norm_cfg=dict(type='GN', num_groups=1),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[96, 224, 448], start_level=0, num_outs=5))

optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-4, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'pos_bias': dict(decay_mult=0.)}))
