# The EfficientViT-M4 swap of lowformer_b1_inshop.py: same data, head and schedule.
# Its last stage (stride 64, 384 channels) feeds the pooling.
_base_ = './lowformer_b1_inshop.py'

pretrained = 'checkpoints/efficientvit_m4_in1k.pth'
model = dict(image_encoder=[
    dict(type='EfficientViTMSRA', arch='m4', out_indices=(2, ),
         init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    dict(type='mmpretrain.GlobalAveragePooling'),
    dict(type='EmbeddingNeck', in_channels=384, out_channels={{_base_.embedding_dim}}),
])
