_base_ = ['./lowformer-track_b15_got10k-lasot-coco.py']
# mmengine.: mmlow's EfficientFormer, also when a caller's default scope is mmpretrain (which
# registers its own EfficientFormer, with a fixed-size attention bias)
model = dict(backbone=dict(_delete_=True, type='mmengine.EfficientFormer', arch='l1',
                           init_cfg=None),
             last_stage=2)   # stride 16, 224 channels
