# LowFormer-B1 retrieval on Stanford Online Products: Ebay_train.txt (11,318 products) for
# training, Ebay_test.txt (11,316 products, 60,502 images) searched against itself. The CUB
# config with the data and a shorter schedule (ten times the images per epoch).
_base_ = './lowformer_b1_cub.py'

data_root = 'data/Stanford_Online_Products/'
sop = dict(type='StanfordOnlineProducts', data_root=data_root)
train_dataloader = dict(dataset=sop)
test_dataloader = dict(dataset=sop)
val_dataloader = test_dataloader

model = dict(head=dict(num_classes=11318), prototype=test_dataloader)

max_epochs = 40
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs, eta_min=1e-6,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
