# DeepFashion In-Shop: the train partition (3,997 items) for training; the query partition
# (14,218 images) searched in the gallery partition (12,612). CUB's pipelines and loaders, and
# no validation during training (see cub_retrieval.py). Recall@1/10/20/30/40/50 as the
# In-Shop literature reports it.
_base_ = './cub_retrieval.py'

data_root = 'data/inshop/'
num_train_classes = 3997
recall_ks = (1, 10, 20, 30, 40, 50)
gallery_is_query = False
inshop = dict(type='InShopRetrieval', data_root=data_root)
train_dataloader = dict(dataset=dict(**inshop, split='train'))
test_dataloader = dict(dataset=dict(**inshop, split='query'))
test_evaluator = dict(recall_ks=recall_ks)
gallery_dataloader = dict(
    batch_size=64, num_workers=4, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**inshop, split='gallery', pipeline={{_base_.test_pipeline}}))
