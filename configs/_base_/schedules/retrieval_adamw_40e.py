# The 60-epoch retrieval schedule shortened to 40 epochs for SOP and In-Shop (ten times CUB's
# images per epoch); no validation, the last checkpoint is the result.
_base_ = './retrieval_adamw_60e.py'

max_epochs = 40
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs, eta_min=1e-6,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
