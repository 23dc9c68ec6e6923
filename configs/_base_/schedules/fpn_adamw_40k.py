# 40k iterations, AdamW 2e-4, poly decay: the LowFormer / EfficientFormer / PVT protocol for
# Semantic FPN on ADE20K (32 images per step).
_base_ = 'mmseg::_base_/schedules/schedule_40k.py'

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4),
    clip_grad=None)
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=40000, by_epoch=False)
]
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
