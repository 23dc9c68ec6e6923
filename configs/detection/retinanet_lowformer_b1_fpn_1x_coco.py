# RetinaNet with a LowFormer-B1 backbone, 1x schedule on COCO (the LowFormer paper's protocol).
_base_ = [
    '../_base_/models/retinanet_lowformer_b1.py',
    'mmdet::_base_/datasets/coco_detection.py',
    '../_base_/schedules/retinanet_adamw_1x.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/mmlow.py',
]

# exact resume and atomic checkpoints (README, "What mmlow guarantees")
train_dataloader = dict(sampler=dict(type='SeededSampler'))
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
