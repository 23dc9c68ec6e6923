# The EfficientFormer-L1 swap of lowformer_b1_inshop.py: same data, head and schedule.
# mmengine.: mmlow's EfficientFormer (mmpretrain has its own, with a fixed-size attention
# bias). Its last stage (stride 32, 448 channels) feeds the pooling.
_base_ = './lowformer_b1_inshop.py'

pretrained = 'checkpoints/efficientformer_l1_in1k.pth'
model = dict(image_encoder=[
    dict(type='mmengine.EfficientFormer', arch='l1', out_indices=(3, ),
         init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    dict(type='mmpretrain.GlobalAveragePooling'),
    dict(type='EmbeddingNeck', in_channels=448, out_channels={{_base_.embedding_dim}}),
])
