# Mask R-CNN-EfficientViT-M4 (MSRA), 1x COCO, as the EfficientViT paper: two transposed convs
# of EfficientViTFPN bring the stride 16/32/64 features to the stride 4..64 pyramid;
# frozen BN statistics, AdamW 1e-4, weight decay 0.05, none on the attention biases.
_base_ = ['./mask-rcnn_lowformer_b1_fpn_1x_coco.py', '../_base_/backbones/efficientvit_m4.py']

model = dict(
    backbone=dict(_base_.efficientvit_m4_backbone, _delete_=True, out_indices=(0, 1, 2),
                  norm_eval=True),
    neck=dict(type='EfficientViTFPN', in_channels=[128, 256, 384], num_extra_trans_convs=2))

optim_wrapper = dict(
    optimizer=dict(lr=1e-4, weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'attention_biases': dict(decay_mult=0.)}))
