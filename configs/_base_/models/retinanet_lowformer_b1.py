# RetinaNet with a LowFormer-B1 backbone: FPN over the stride 8/16/32 features (stages 2-4),
# P6/P7 from the stride-32 input.
_base_ = ['mmdet::_base_/models/retinanet_r50_fpn.py', '../backbones/lowformer_b1.py']

model = dict(
    backbone=dict(_base_.lowformer_b1_backbone, _delete_=True, out_indices=(1, 2, 3),
                  frozen_stages=-1, norm_eval=True),
    neck=dict(in_channels=[64, 128, 256], start_level=0, num_outs=5))
