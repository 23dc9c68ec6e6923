# The EfficientViT-M4 swap of retinanet_lowformer_b1_shapes.py: same data and schedule, the
# backbone and neck of retinanet_efficientvit_m4_fpn_1x_coco.py, trained from scratch.
_base_ = './retinanet_lowformer_b1_shapes.py'

model = dict(
    backbone=dict(_delete_=True, type='EfficientViTMSRA', arch='m4', out_indices=(0, 1, 2)),
    neck=dict(type='EfficientViTFPN', in_channels=[128, 256, 384], num_extra_trans_convs=1))
