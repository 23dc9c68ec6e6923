# LowFormer-B1 retrieval on DeepFashion In-Shop: the train partition (3,997 items) for
# training; the query partition (14,218 images) searched in the gallery partition (12,612).
_base_ = './lowformer_b1_cub.py'

data_root = 'data/inshop/'
inshop = dict(type='InShopRetrieval', data_root=data_root)
train_dataloader = dict(dataset=dict(**inshop, split='train'))
test_dataloader = dict(dataset=dict(**inshop, split='query'))
val_dataloader = test_dataloader
gallery_dataloader = dict(
    batch_size=64, num_workers=4, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**inshop, split='gallery', pipeline={{_base_.test_pipeline}}))

model = dict(head=dict(num_classes=3997), prototype=gallery_dataloader,
             gallery_is_query=False)

max_epochs = 40
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs, eta_min=1e-6,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
