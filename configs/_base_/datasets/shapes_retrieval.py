# The embedded shapes retrieval split (generated under data/shapes_retrieval/ on first use):
# 330 training identities, 150 unseen test identities searched against themselves (of the
# generator's 480), 10 views each, 64x64. Recall@1/2/4/8 as CUB.
# Unlike the real datasets, validation runs during training, on the test split: a progress
# check only (logged halfway), no checkpoint or epoch is chosen by it (no save_best; the
# last checkpoint is the result). The split has no labelled held-out part besides the test
# identities (docs/retrieval_protocol.md).
_base_ = './cub_retrieval.py'

data_root = 'data/shapes_retrieval/'
image_size = 64
num_train_classes = 330
shapes_generator = dict(num_train_identities=num_train_classes, num_test_identities=150,
                        views=10, img_size=(image_size, image_size))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=[0.25, 0.25], direction=['horizontal', 'vertical']),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
shapes_dataset = dict(type='ShapesRetrieval', data_root=data_root, generator=shapes_generator)
train_dataloader = dict(
    batch_size=32, num_workers=1,
    dataset=dict(_delete_=True, **shapes_dataset, split='train', pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=64, num_workers=1,
    dataset=dict(_delete_=True, **shapes_dataset, split='test', pipeline=test_pipeline))
gallery_dataloader = test_dataloader
# the base has no validation (None): a whole loader, not a change of one
val_dataloader = dict(
    _delete_=True, batch_size=64, num_workers=1,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**shapes_dataset, split='test', pipeline=test_pipeline))
val_evaluator = dict(_base_.test_evaluator, _delete_=True)
