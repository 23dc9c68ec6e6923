# Stanford Online Products: Ebay_train.txt (11,318 products) for training, Ebay_test.txt
# (11,316 products, 60,502 images) searched against itself. CUB's pipelines and loaders, and
# no validation during training (see cub_retrieval.py). Recall@1/10/100/1000 as the SOP
# literature reports it.
_base_ = './cub_retrieval.py'

data_root = 'data/Stanford_Online_Products/'
num_train_classes = 11318
recall_ks = (1, 10, 100, 1000)
sop = dict(type='StanfordOnlineProducts', data_root=data_root)
train_dataloader = dict(dataset=sop)
test_dataloader = dict(dataset=sop)
gallery_dataloader = test_dataloader
test_evaluator = dict(recall_ks=recall_ks)
