# EfficientViT-M4 starts at stride 16: keep its first stage (128 channels). Its attention
# windows (7x7) would align with the seam of the joint search (14 rows) + template (7 rows)
# map and never mix the two, so that stage attends over the whole joint map in one window.
_base_ = ['./lowformer-track_b15_got10k-lasot-coco.py']
model = dict(backbone=dict(_delete_=True, type='EfficientViTMSRA', arch='m4',
                           global_attention_stages=(0, ),
                           init_cfg=dict(type='Pretrained',
                                         checkpoint='checkpoints/efficientvit_m4_in1k.pth',
                                         prefix='backbone.')),
             last_stage=0)
