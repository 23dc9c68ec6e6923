# Mask R-CNN with a LowFormer-B1 backbone, 1x schedule on COCO. The LowFormer papers report
# RetinaNet only; the optimizer is the usual Mask R-CNN setting of the efficient hybrid backbones.
_base_ = [
    '../_base_/models/mask-rcnn_lowformer_b1.py',
    'mmdet::_base_/datasets/coco_instance.py',
    '../_base_/schedules/mask-rcnn_adamw_1x.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/mmlow.py',
]

# exact resume and atomic checkpoints (README, "What mmlow guarantees")
train_dataloader = dict(sampler=dict(type='SeededSampler'))
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
