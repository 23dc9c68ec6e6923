# From scratch on the shapes retrieval split: a higher rate, 28 epochs of 47 iterations,
# evaluated every 7. About 0.43 s per iteration on 2 idle cores: 9.4 minutes of training
# iterations, inside the 10-minute budget of the README's bar.
_base_ = './retrieval_adamw_60e.py'

max_epochs = 28
optim_wrapper = dict(optimizer=dict(lr=2e-3, weight_decay=0.05),
                     paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=1.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs, eta_min=1e-5,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=7)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=7, save_best=None))
