# Semantic FPN with a LowFormer-B1 backbone for ADE20K's 150 classes at its 512x512 crops.
_base_ = 'mmseg::_base_/models/fpn_r50.py'

pretrained = 'checkpoints/lowformer_b1_in1k.pth'

model = dict(
    data_preprocessor=dict(size=(512, 512)),
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='LowFormer',
        arch='b1',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[32, 64, 128, 256]),
    decode_head=dict(num_classes=150))
