# The EfficientViT-M4 swap of lowformer_b1_shapes.py: same data and schedule,
# trained from scratch.
# Its last stage (stride 64, 384 channels) feeds the pooling.
_base_ = './lowformer_b1_shapes.py'

model = dict(image_encoder=[
    dict(type='EfficientViTMSRA', arch='m4', out_indices=(2, ),
         init_cfg=None),
    dict(type='mmpretrain.GlobalAveragePooling'),
    dict(type='EmbeddingNeck', in_channels=384, out_channels={{_base_.embedding_dim}}),
])
