# DeepFashion In-Shop: the train partition (3,997 items) for training; the query partition
# (14,218 images) searched in the gallery partition (12,612). CUB's pipelines and loaders.
_base_ = './cub_retrieval.py'

data_root = 'data/inshop/'
num_train_classes = 3997
gallery_is_query = False
inshop = dict(type='InShopRetrieval', data_root=data_root)
train_dataloader = dict(dataset=dict(**inshop, split='train'))
test_dataloader = dict(dataset=dict(**inshop, split='query'))
val_dataloader = test_dataloader
gallery_dataloader = dict(
    batch_size=64, num_workers=4, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**inshop, split='gallery', pipeline={{_base_.test_pipeline}}))
