# Mask R-CNN with a LowFormer-B1 backbone, 1x schedule on COCO. FPN over all four stages
# (strides 4..32). The LowFormer papers report RetinaNet only; the optimizer is the usual
# Mask R-CNN setting of the efficient hybrid backbones (EfficientFormer's: AdamW 2e-4).
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/mmlow.py',
]

pretrained = 'checkpoints/lowformer_b1_in1k.pth'

model = dict(
    backbone=dict(
        _delete_=True,
        type='LowFormer',
        arch='b1',
        out_indices=(0, 1, 2, 3),
        norm_eval=True,
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[32, 64, 128, 256]))

optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-4, weight_decay=1e-4))
auto_scale_lr = dict(enable=False, base_batch_size=16)
