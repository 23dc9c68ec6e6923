# The EfficientFormer-L1 swap of lowformer_b1_cub.py: same data, head and schedule.
# mmengine.: mmlow's EfficientFormer (mmpretrain has its own, with a fixed-size attention
# bias). Its last stage (stride 32, 448 channels) feeds the pooling.
_base_ = ['./lowformer_b1_cub.py', '../_base_/backbones/efficientformer_l1.py']

model = dict(image_encoder=[
    dict(_base_.efficientformer_l1_backbone, type='mmengine.EfficientFormer', out_indices=(3, )),
    dict(type='mmpretrain.GlobalAveragePooling'),
    dict(type='EmbeddingNeck', in_channels=448, out_channels={{_base_.embedding_dim}}),
])
