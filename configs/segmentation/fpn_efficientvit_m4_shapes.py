# The EfficientViT-M4 swap of fpn_lowformer_b1_shapes.py: same data and schedule, the backbone
# and neck of fpn_efficientvit_m4_512x512_40k_ade20k.py, trained from scratch.
_base_ = './fpn_lowformer_b1_shapes.py'

model = dict(
    backbone=dict(_delete_=True, type='EfficientViTMSRA', arch='m4', out_indices=(0, 1, 2)),
    neck=dict(_delete_=True, type='EfficientViTFPN', in_channels=[128, 256, 384],
              out_channels=256, num_outs=5, num_extra_trans_convs=2))
