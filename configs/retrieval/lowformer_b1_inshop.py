# LowFormer-B1 retrieval on DeepFashion In-Shop: the train partition (3,997 items) for
# training; the query partition (14,218 images) searched in the gallery partition (12,612).
# The SOP config (same schedule) with the data changed.
_base_ = './lowformer_b1_sop.py'

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
