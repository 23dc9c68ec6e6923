# CPU preset on the embedded synthetic sequences: a slim LowFormer (B0's layout at 3/4 width,
# fewer blocks, expansion 2) up to its stride-16 stage, template 64 / search 128 px, one
# LowFormer block per head branch; about 12 minutes of training on 2 CPU cores.
_base_ = ['../_base_/models/lowformer-track_b15.py', '../_base_/datasets/shapes_tracking.py',
          '../_base_/schedules/shapes_tracking.py']

model = dict(
    backbone=dict(_delete_=True, type='LowFormer', init_cfg=None, expand_ratio=2.0,
                  mlp_ratio=2, arch=dict(widths=(16, 24, 48, 96, 192), depths=(0, 1, 1, 2, 1),
                                         downsample_expand_ratios=(4, 4, 4, 4))),
    head_channels=64,
    head=dict(num_box_blocks=1, num_score_blocks=1, tower_depth=2),
    template_size=64,
    search_size=128)
