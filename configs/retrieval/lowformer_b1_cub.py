# Image retrieval with a LowFormer-B1 embedding on CUB-200-2011 (classes 1-100 train, 101-200
# test, searched against itself). Protocol in README (Retrieval): 224x224 crops, a 512-d
# L2-normalised embedding, ArcFace (scale 30, margin 0.3), AdamW, 60 epochs, cosine decay.
_base_ = [
    'mmpretrain::_base_/default_runtime.py',
    '../_base_/mmlow.py',
]

# ImageNet weights in any LowFormer layout (official, timm or converted by
# tools/convert_checkpoint.py); hub downloads are not attempted.
pretrained = 'checkpoints/lowformer_b1_in1k.pth'
data_root = 'data/CUB_200_2011/'
dataset_type = 'CUBRetrieval'
num_train_classes = 100
embedding_dim = 512
image_size = 224

data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=image_size),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=image_size * 8 // 7, edge='short'),
    dict(type='CenterCrop', crop_size=image_size),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
# the test split is the query set and the gallery (each query excluded from its own results)
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test',
                 pipeline=test_pipeline))
val_dataloader = test_dataloader
test_evaluator = dict(type='RetrievalMetric', recall_ks=(1, 2, 4, 8), map_topk=10)
val_evaluator = test_evaluator

model = dict(
    type='EmbeddingRetriever',
    image_encoder=[
        dict(type='LowFormer', arch='b1', out_indices=(3, ), drop_path_rate=0.1,
             init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
        dict(type='mmpretrain.GlobalAveragePooling'),
        dict(type='EmbeddingNeck', in_channels=256, out_channels=embedding_dim),
    ],
    # num_subcenters=3 gives sub-center ArcFace
    head=dict(type='mmpretrain.ArcFaceClsHead', num_classes=num_train_classes,
              in_channels=embedding_dim, scale=30., margins=0.3,
              loss=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0)),
    prototype=test_dataloader,
    gallery_is_query=True,
    recall_ks=(1, 2, 4, 8),
    map_topk=10,
    data_preprocessor=data_preprocessor)

max_epochs = 60
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    # the class weights start from random: they learn faster than the pretrained backbone
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs, eta_min=1e-6,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(enable=False, base_batch_size=64)
default_scope = 'mmpretrain'
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2,
                                     save_best='retrieval/Recall@1', rule='greater'))
# beside the metrics: embedding extraction (ms per image) and gallery search (ms per query)
custom_hooks = [dict(type='LatencyHook', mode='embedding'),
                dict(type='LatencyHook', mode='search')]
