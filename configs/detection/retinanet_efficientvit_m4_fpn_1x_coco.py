# RetinaNet-EfficientViT-M4 (MSRA), 1x COCO, as the EfficientViT paper: the LowFormer-B1 config
# with the backbone swapped. Its stride 16/32/64 features go through EfficientViTFPN, whose
# transposed conv adds the stride-8 level; AdamW 1e-4, weight decay 0.05, none on the
# attention biases.
_base_ = ['./retinanet_lowformer_b1_fpn_1x_coco.py', '../_base_/backbones/efficientvit_m4.py']

model = dict(
    # the reference trains detection with frozen BN statistics
    backbone=dict(_base_.efficientvit_m4_backbone, _delete_=True, out_indices=(0, 1, 2),
                  norm_eval=True),
    neck=dict(type='EfficientViTFPN', in_channels=[128, 256, 384], num_extra_trans_convs=1))

optim_wrapper = dict(
    optimizer=dict(weight_decay=0.05),
    clip_grad=None,
    paramwise_cfg=dict(custom_keys={'attention_biases': dict(decay_mult=0.)}))
