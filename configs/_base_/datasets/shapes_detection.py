# The embedded synthetic shapes data (coloured circles, squares and triangles on textured
# backgrounds, COCO format), made under data_root on first use, over mmdet's COCO loaders.
_base_ = 'mmdet::_base_/datasets/coco_detection.py'

# the repository's data/shapes/ wherever the tools run from (relative to this file, not to the
# working directory); --cfg-options data_root=DIR puts the data in DIR instead
data_root = '{{ fileDirname }}/../../../data/shapes/'
image_size = (128, 128)
# made under data_root on first use; every shapes config asks for the same data
shapes_generator = dict(num_train=800, num_val=100, img_size=image_size, size_range=(0.25, 0.6))
metainfo = dict(classes=('circle', 'square', 'triangle'))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]

# train and val read the same generated set (made on first use)
shapes_dataset = dict(
    type='ShapesDataset', data_root=data_root, generator=shapes_generator, metainfo=metainfo)
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    sampler=dict(type='SeededSampler'),
    dataset=dict(
        **shapes_dataset,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=4),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(
        **shapes_dataset,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='val/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator
