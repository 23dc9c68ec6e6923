# RetinaNet with an EfficientViT-M4 (MSRA) backbone, 1x COCO, as the EfficientViT paper: its
# stride 16/32/64 features go through EfficientViTFPN, whose transposed conv adds the stride-8
# level RetinaNet needs; AdamW 1e-4, weight decay 0.05, none on the attention biases.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/mmlow.py',
]

pretrained = 'checkpoints/efficientvit_m4_in1k.pth'

model = dict(
    backbone=dict(
        _delete_=True,
        type='EfficientViTMSRA',
        arch='m4',
        out_indices=(0, 1, 2),
        frozen_stages=-1,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(
        type='EfficientViTFPN',
        in_channels=[128, 256, 384],
        start_level=0,
        num_outs=5,
        num_extra_trans_convs=1))

optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'attention_biases': dict(decay_mult=0.)}))
