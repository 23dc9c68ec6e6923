# LowFormer-Track (the authors' SMAT adaptation): LowFormer-B1.5 from its ImageNet weights
# without its last stage (stride 16, 160 channels; the dropped stage's weights are left out),
# template 112 px (crop x2), search 224 px (crop x4), pixel-wise correlation neck (7x7 = 49
# template tokens), centre head at 160 channels with a 3x3 conv and 4 / 2 LowFormer blocks in
# the box / score branches and separable towers. A backbone swap overrides `model.backbone`
# (and `last_stage`, the stage at stride 16) in a one-file config.
_base_ = ['../mmlow.py']
default_scope = 'mmengine'

model = dict(
    type='OneStreamTracker',
    backbone=dict(type='LowFormer', arch='b15',
                  init_cfg=dict(type='Pretrained', prefix='backbone.',
                                checkpoint='checkpoints/lowformer_b15_in1k.pth')),
    last_stage=2,
    head_channels=160,
    neck=dict(type='PixelwiseCorrelationNeck'),
    head=dict(type='CenterTrackingHead', num_box_blocks=4, num_score_blocks=2, tower_depth=3),
    template_size=112,
    search_size=224,
    template_factor=2.0,
    search_factor=4.0,
    loss_weights=dict(focal=1.0, giou=2.0, l1=5.0))
