# Mask R-CNN-LowFormer-B1 on the embedded shapes data (generated under data/shapes/ on first use):
# the COCO config with data, image / proposal sizes and schedule changed. No ImageNet weights
# exist on an offline machine, so the backbone trains from scratch here.
_base_ = './mask-rcnn_lowformer_b1_fpn_1x_coco.py'

data_root = 'data/shapes/'
image_size = (128, 128)
# made under data_root on first use; every shapes config asks for the same data
shapes_generator = dict(num_train=800, num_val=100, img_size=image_size, size_range=(0.25, 0.6))
metainfo = dict(classes=('circle', 'square', 'triangle'))

# Sizes for 128x128 images of at most four shapes: far fewer proposals and RoIs than COCO needs,
# and RoIs spread over the pyramid levels as COCO-sized objects are at 800 px (finest_scale
# 56 * 128 / 800 ~ 14; with 56 every RoI here would land on the stride-4 level). torchvision's
# RoIAlign computes the same as mmcv's and has a faster CPU backward.
roi_extractor = dict(finest_scale=14, roi_layer=dict(use_torchvision=True))
model = dict(
    backbone=dict(init_cfg=None, norm_eval=False, drop_path_rate=0.),
    roi_head=dict(
        bbox_roi_extractor=roi_extractor,
        mask_roi_extractor=roi_extractor,
        bbox_head=dict(num_classes=3),
        mask_head=dict(num_classes=3)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=100),
        rcnn=dict(max_per_img=20)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
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

# a two-stage iteration costs ~3x RetinaNet's here: 2 epochs (400 iterations) with a cosine
# decay fit well inside a 15-minute CPU budget
max_epochs = 2
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, by_epoch=True,
         convert_to_iter_based=True),
]
optim_wrapper = dict(optimizer=dict(lr=4e-4), clip_grad=dict(max_norm=35, norm_type=2))
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1, max_keep_ckpts=2))
