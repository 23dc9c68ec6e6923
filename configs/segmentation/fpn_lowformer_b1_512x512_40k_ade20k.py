# Semantic FPN with a LowFormer-B1 backbone, 512x512 crops, 40k iterations on ADE20K.
_base_ = [
    '../_base_/models/fpn_lowformer_b1.py',
    'mmseg::_base_/datasets/ade20k.py',
    '../_base_/schedules/fpn_adamw_40k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/mmlow.py',
]

# 8 processes x 4 images = the papers' batch of 32
train_dataloader = dict(batch_size=4, num_workers=4, sampler=dict(type='SeededInfiniteSampler'))
