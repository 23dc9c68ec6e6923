# The reference schedule (AdamW, weight decay 1e-4, gradient norm clipped at 0.1, x0.1 at 80 %)
# in iterations, sized for about 12 minutes on 2 CPU cores. From scratch (no pretrained
# weights offline), so the backbone learns at the full rate, with a higher rate and a short
# warm-up.
_base_ = ['./tracking_adamw_300e.py']

max_iters = 4500
optim_wrapper = dict(optimizer=dict(lr=1e-3),
                     paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=1.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', by_epoch=False, milestones=[int(max_iters * 0.8)], gamma=0.1)
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=10 ** 9)
default_hooks = dict(logger=dict(interval=50),
                     checkpoint=dict(by_epoch=False, interval=500, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
