# A two-stage iteration costs ~3x RetinaNet's here: 2 epochs (400 iterations) with a cosine
# decay fit well inside a 15-minute CPU budget. Checkpoint and log intervals follow the
# schedule, so they are set here, over mmdet's runtime.
_base_ = ['./mask-rcnn_adamw_1x.py', 'mmdet::_base_/default_runtime.py']

max_epochs = 2
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, by_epoch=True,
         convert_to_iter_based=True),
]
optim_wrapper = dict(optimizer=dict(lr=4e-4), clip_grad=dict(max_norm=35, norm_type=2))
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=2))
