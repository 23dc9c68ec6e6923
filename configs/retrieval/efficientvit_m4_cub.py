# The EfficientViT-M4 swap of lowformer_b1_cub.py: same data, head and schedule.
# Its last stage (stride 64, 384 channels) feeds the pooling.
_base_ = ['./lowformer_b1_cub.py', '../_base_/backbones/efficientvit_m4.py']

model = dict(image_encoder=[
    dict(_base_.efficientvit_m4_backbone, out_indices=(2, )),
    dict(type='mmpretrain.GlobalAveragePooling'),
    dict(type='EmbeddingNeck', in_channels=384, out_channels={{_base_.embedding_dim}}),
])
