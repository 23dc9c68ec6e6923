# Semantic FPN-LowFormer-B1 on the embedded shapes data (its ADE20K-style label maps, generated
# under data/shapes/ on first use): the ADE20K config's model on the shapes data and schedule.
# The backbone trains from scratch (no ImageNet weights offline).
_base_ = [
    '../_base_/models/fpn_lowformer_b1.py',
    '../_base_/datasets/shapes_semantic.py',
    '../_base_/schedules/shapes_fpn.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/mmlow.py',
]

model = dict(
    data_preprocessor=dict(size={{_base_.image_size}}),
    backbone=dict(init_cfg=None, drop_path_rate=0.),
    decode_head=dict(num_classes=4))
