# Retrieval fine-tuning from ImageNet weights: AdamW 1e-4 (the class weights of the head start
# from random: x10), one warm-up epoch, cosine decay, 60 epochs (CUB's size); checkpoints
# every 5 epochs, the last one is the result: no validation during training and no best
# checkpoint, since the only labelled held-out split is the test split (model selection on it
# would inflate the figures; docs/retrieval_protocol.md). tools/test.py evaluates the test
# split; embedding and search latency are logged there.
_base_ = 'mmpretrain::_base_/default_runtime.py'

default_scope = 'mmpretrain'
max_epochs = 60
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs, eta_min=1e-6,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs)
val_cfg = None  # with val_dataloader and val_evaluator None (datasets/*_retrieval.py)
test_cfg = dict()
auto_scale_lr = dict(enable=False, base_batch_size=64)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', interval=5, max_keep_ckpts=2))
# beside the metrics: embedding extraction (ms per image) and gallery search (ms per query)
custom_hooks = [dict(type='LatencyHook', mode='embedding'),
                dict(type='LatencyHook', mode='search')]
