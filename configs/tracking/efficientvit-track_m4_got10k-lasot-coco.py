# EfficientViT-M4 starts at stride 16: keep its first stage (128 channels, windowed cascaded
# group attention over the joint map).
_base_ = ['./lowformer-track_b15_got10k-lasot-coco.py']
model = dict(backbone=dict(_delete_=True, type='EfficientViTMSRA', arch='m4', init_cfg=None),
             last_stage=0)
