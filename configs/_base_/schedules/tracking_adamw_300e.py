# LowFormer-Track's schedule: AdamW 4e-4 (backbone x0.1), weight decay 1e-4, gradient norm
# clipped at 0.1, learning rate x0.1 at 80 % of training (epoch 240 of 300), 60k pairs per
# epoch, batch 128.
max_epochs = 300
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=4e-4, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}),
    clip_grad=dict(max_norm=0.1))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[int(max_epochs * 0.8)], gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10 ** 9)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='nccl'))
log_processor = dict(by_epoch=True)
randomness = dict(seed=0)
