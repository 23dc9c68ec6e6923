# RetinaNet with a LowFormer-B1 backbone: FPN over the stride 8/16/32 features (stages 2-4),
# P6/P7 from the stride-32 input. ImageNet weights in any LowFormer layout (official, timm or
# converted by tools/convert_checkpoint.py); hub downloads are not attempted.
_base_ = 'mmdet::_base_/models/retinanet_r50_fpn.py'

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
