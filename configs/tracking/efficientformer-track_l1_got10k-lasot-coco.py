_base_ = ['./lowformer-track_b15_got10k-lasot-coco.py']
model = dict(backbone=dict(_delete_=True, type='EfficientFormer', arch='l1', init_cfg=None),
             last_stage=2)   # stride 16, 224 channels
