# Semantic FPN with a LowFormer-B1 backbone, 512x512 crops, 40k iterations on ADE20K (the
# LowFormer / EfficientFormer / PVT protocol: AdamW 2e-4, poly decay, 32 images per step).
_base_ = [
    'mmseg::_base_/models/fpn_r50.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/schedules/schedule_40k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/mmlow.py',
]

crop_size = (512, 512)
pretrained = 'checkpoints/lowformer_b1_in1k.pth'

model = dict(
    data_preprocessor=dict(size=crop_size),
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

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4),
    clip_grad=None)
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=40000, by_epoch=False)
]
# 8 processes x 4 images = the papers' batch of 32
train_dataloader = dict(batch_size=4, num_workers=4)
