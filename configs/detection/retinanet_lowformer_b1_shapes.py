# RetinaNet-LowFormer-B1 on the embedded synthetic shapes data (generated under data/shapes/ on
# first use): the COCO config with only data, image size and schedule changed. No ImageNet
# weights exist on an offline machine, so the backbone trains from scratch here.
_base_ = './retinanet_lowformer_b1_fpn_1x_coco.py'

data_root = 'data/shapes/'
image_size = (128, 128)
# made under data_root on first use; train and val must ask for the same data
shapes_generator = dict(num_train=800, num_val=100, img_size=image_size, size_range=(0.25, 0.6))
metainfo = dict(classes=('circle', 'square', 'triangle'))

model = dict(
    backbone=dict(init_cfg=None, norm_eval=False, drop_path_rate=0.),
    bbox_head=dict(num_classes=3))

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

# from scratch on a few hundred images: a higher rate, short warm-up, decay near the end
max_epochs = 6
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[5], gamma=0.1),
]
optim_wrapper = dict(optimizer=dict(lr=4e-4))
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1, max_keep_ckpts=2))
