# RetinaNet with a LowFormer-B1 backbone, 1x schedule on COCO (the LowFormer paper's protocol):
# FPN over the stride 8/16/32 features (stages 2-4), P6/P7 from the stride-32 input.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/mmlow.py',
]

# ImageNet weights in any LowFormer layout (official, timm or converted by
# tools/convert_checkpoint.py); hub downloads are not attempted.
pretrained = 'checkpoints/lowformer_b1_in1k.pth'

model = dict(
    backbone=dict(
        _delete_=True,
        type='LowFormer',
        arch='b1',
        out_indices=(1, 2, 3),
        frozen_stages=-1,
        norm_eval=True,
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[64, 128, 256], start_level=0, num_outs=5))

# AdamW as for the other hybrid backbones of the suite; the heads keep mmdet's 1x milestones.
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=16)
