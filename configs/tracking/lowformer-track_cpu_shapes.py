# CPU preset on the embedded synthetic sequences (generated under data/shapes_tracking on first
# use): a slim LowFormer (B0's layout at 3/4 width, fewer blocks, expansion 2) up to its
# stride-16 stage, template 64 / search 128 px, one LowFormer block per head branch.
# Trained from scratch (no pretrained weights offline), so the backbone learns at the full
# rate; everything else follows the reference schedule (AdamW, wd 1e-4, clip 0.1, x0.1 at
# 80 %), in iterations, sized for about 15 minutes on 2 CPU cores.
_base_ = ['./_base_/lowformer-track_b15.py', './_base_/schedule_reference.py']

model = dict(
    backbone=dict(_delete_=True, type='LowFormer', init_cfg=None, expand_ratio=2.0,
                  mlp_ratio=2, arch=dict(widths=(16, 24, 48, 96, 192), depths=(0, 1, 1, 2, 1),
                                         downsample_expand_ratios=(4, 4, 4, 4))),
    head_channels=64,
    head=dict(num_box_blocks=1, num_score_blocks=1, tower_depth=2),
    template_size=64,
    search_size=128)

shapes_tracking = dict(type='ShapesTrackingReader', root='data/shapes_tracking',
                       num_train=120, num_val=20, length=60, frame_size=(160, 160), seed=0)
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='TrackingPairDataset', sources=[dict(shapes_tracking, subset='train')],
                 samples_per_epoch=60000, template_size=64, search_size=128,
                 template_factor=2.0, search_factor=4.0, max_interval=60, centre_jitter=3.0,
                 scale_jitter=0.25))
tracking_test = dict(reader=dict(shapes_tracking, subset='val'), format='got10k')

max_iters = 3600
optim_wrapper = dict(optimizer=dict(lr=1e-3),
                     paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=1.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', by_epoch=False, milestones=[int(max_iters * 0.8)], gamma=0.1)
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=10 ** 9)
default_hooks = dict(logger=dict(interval=50),
                     checkpoint=dict(by_epoch=False, interval=1200, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
