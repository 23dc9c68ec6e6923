# CUB-200-2011 for retrieval (classes 1-100 train, 101-200 test): the test split is the query
# set and the gallery (each query excluded from its own results). 224x224 crops.
# Recall@1/2/4/8 as the CUB literature reports it (docs/retrieval_protocol.md).
# No validation during training: the only labelled held-out split is the test split, and
# choosing a checkpoint (or an epoch) by its test Recall would select on the test set. The
# last checkpoint is the result; tools/test.py evaluates it on the test split.
data_root = 'data/CUB_200_2011/'
dataset_type = 'CUBRetrieval'
num_train_classes = 100
gallery_is_query = True
image_size = 224
recall_ks = (1, 2, 4, 8)

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
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test',
                 pipeline=test_pipeline))
gallery_dataloader = test_dataloader
test_evaluator = dict(type='RetrievalMetric', recall_ks=recall_ks, map_topk=10)
val_dataloader = None
val_evaluator = None
