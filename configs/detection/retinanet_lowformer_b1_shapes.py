# RetinaNet-LowFormer-B1 on the embedded synthetic shapes data (generated under data/shapes/ on
# first use): the COCO config's model on the shapes data and schedule. No ImageNet weights
# exist on an offline machine, so the backbone trains from scratch here.
_base_ = [
    '../_base_/models/retinanet_lowformer_b1.py',
    '../_base_/datasets/shapes_detection.py',
    '../_base_/schedules/shapes_retinanet.py',
    '../_base_/mmlow.py',
]

model = dict(
    backbone=dict(init_cfg=None, norm_eval=False, drop_path_rate=0.),
    bbox_head=dict(num_classes=3))
