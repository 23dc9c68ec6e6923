# Semantic FPN with a LowFormer-B1 backbone for ADE20K's 150 classes at its 512x512 crops.
_base_ = ['mmseg::_base_/models/fpn_r50.py', '../backbones/lowformer_b1.py']

model = dict(
    data_preprocessor=dict(size=(512, 512)),
    pretrained=None,
    backbone=dict(_base_.lowformer_b1_backbone, _delete_=True, out_indices=(0, 1, 2, 3)),
    neck=dict(in_channels=[32, 64, 128, 256]),
    decode_head=dict(num_classes=150))
