# The shapes data as ADE20K-style label maps (the same generated set as the detection shapes
# configs, made under data_root on first use), over mmseg's ADE20K loaders.
_base_ = 'mmseg::_base_/datasets/ade20k.py'

# the repository's data/shapes/ wherever the tools run from (relative to this file, not to the
# working directory); --cfg-options data_root=DIR puts the data in DIR instead
data_root = '{{ fileDirname }}/../../../data/shapes/'
image_size = (128, 128)
shapes_generator = dict(num_train=800, num_val=100, img_size=image_size, size_range=(0.25, 0.6))

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
    sampler=dict(type='SeededInfiniteSampler'),
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
