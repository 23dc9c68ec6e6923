# EfficientFormerV2-S1 up to its stride-16 stage (120 channels), whose last two blocks attend
# globally over the joint search + template map. (EfficientFormer V1 has attention only in its
# stride-32 stage, so a V1 tracker at stride 16 would not be one-stream: README, "Tracking".)
_base_ = ['./lowformer-track_b15_got10k-lasot-coco.py']
model = dict(backbone=dict(_delete_=True, type='EfficientFormerV2', arch='s1',
                           init_cfg=dict(type='Pretrained',
                                         checkpoint='checkpoints/efficientformerv2_s1_in1k.pth',
                                         prefix='backbone.')),
             last_stage=2)
