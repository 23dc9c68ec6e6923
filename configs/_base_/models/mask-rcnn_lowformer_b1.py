# Mask R-CNN with a LowFormer-B1 backbone: FPN over all four stages (strides 4..32).
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

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
