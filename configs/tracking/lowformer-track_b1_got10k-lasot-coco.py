_base_ = ['./lowformer-track_b15_got10k-lasot-coco.py']
# stride-16 stage: 128 channels
model = dict(backbone=dict(arch='b1',
                           init_cfg=dict(checkpoint='checkpoints/lowformer_b1_in1k.pth')))
