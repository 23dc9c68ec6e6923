# LowFormer-B1 retrieval on the embedded shapes retrieval split (generated under
# data/shapes_retrieval/ on first use): 150 training identities, 150 unseen test identities
# searched against themselves. The CUB config with data, image size, embedding size and
# schedule changed; the backbone trains from scratch (no ImageNet weights offline).
_base_ = './lowformer_b1_cub.py'

data_root = 'data/shapes_retrieval/'
image_size = 64
shapes_generator = dict(num_train_identities=150, num_test_identities=150, views=10,
                        img_size=(image_size, image_size))
embedding_dim = 128

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=[0.25, 0.25], direction=['horizontal', 'vertical']),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
shapes_dataset = dict(_delete_=True, type='ShapesRetrieval', data_root=data_root,
                      generator=shapes_generator)
train_dataloader = dict(
    batch_size=32, num_workers=1,
    dataset=dict(**shapes_dataset, split='train', pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=64, num_workers=1,
    dataset=dict(**shapes_dataset, split='test', pipeline=test_pipeline))
val_dataloader = test_dataloader

model = dict(
    image_encoder=[
        dict(type='LowFormer', arch='b1', out_indices=(3, ), drop_path_rate=0., init_cfg=None),
        dict(type='mmpretrain.GlobalAveragePooling'),
        dict(type='EmbeddingNeck', in_channels=256, out_channels=embedding_dim),
    ],
    head=dict(num_classes=150, in_channels=embedding_dim),
    prototype=test_dataloader)

# from scratch: a higher rate; about 10 CPU minutes on 2 cores
max_epochs = 10
optim_wrapper = dict(optimizer=dict(lr=2e-3, weight_decay=0.05),
                     paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=1.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs, eta_min=1e-5,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=5, save_best=None))
