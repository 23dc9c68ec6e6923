_base_ = ['./lowformer-track_b15_got10k-lasot-coco.py']
model = dict(backbone=dict(arch='b1'))   # stride-16 stage: 128 channels
