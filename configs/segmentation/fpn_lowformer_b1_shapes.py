# Semantic FPN-LowFormer-B1 on the embedded shapes data (its ADE20K-style label maps, generated
# under data/shapes/ on first use): the ADE20K config with data, crop size and schedule changed.
# The backbone trains from scratch (no ImageNet weights offline).
_base_ = './fpn_lowformer_b1_512x512_40k_ade20k.py'

data_root = 'data/shapes/'
image_size = (128, 128)
# the same data as the detection shapes configs
shapes_generator = dict(num_train=800, num_val=100, img_size=image_size, size_range=(0.25, 0.6))

model = dict(
    data_preprocessor=dict(size=image_size),
    backbone=dict(init_cfg=None, drop_path_rate=0.),
    decode_head=dict(num_classes=4))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]

# train and val read the same generated set (made on first use)
shapes_dataset = dict(type='ShapesSegDataset', data_root=data_root, generator=shapes_generator)
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(
        **shapes_dataset,
        data_prefix=dict(img_path='train', seg_map_path='semantic/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    dataset=dict(
        **shapes_dataset,
        data_prefix=dict(img_path='val', seg_map_path='semantic/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=50, end=max_iters, by_epoch=False),
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval=250, max_keep_ckpts=2))
