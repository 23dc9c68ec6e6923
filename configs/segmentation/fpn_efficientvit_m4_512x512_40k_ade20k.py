# Semantic FPN with EfficientViT-M4: two transposed convs bring its stride 16/32/64 features
# to the stride 4..32 pyramid the FPN head reads.
_base_ = ['./fpn_lowformer_b1_512x512_40k_ade20k.py', '../_base_/backbones/efficientvit_m4.py']

model = dict(
    backbone=dict(_base_.efficientvit_m4_backbone, _delete_=True, out_indices=(0, 1, 2)),
    neck=dict(_delete_=True, type='EfficientViTFPN', in_channels=[128, 256, 384],
              out_channels=256, num_outs=5, num_extra_trans_convs=2))
