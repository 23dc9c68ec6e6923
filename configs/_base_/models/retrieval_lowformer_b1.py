# Image retrieval with a LowFormer-B1 embedding: last stage -> global average pooling -> a
# 512-d L2-normalised embedding (linear + BN) trained with ArcFace (scale 30, margin 0.3; see
# README, Retrieval). The leaf sets the head's classes, the gallery (model.prototype) and the
# dataset's recall_ks (the search depth must reach the evaluator's deepest Recall@k).
_base_ = '../backbones/lowformer_b1.py'

embedding_dim = 512

data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
model = dict(
    type='EmbeddingRetriever',
    image_encoder=[
        dict(_base_.lowformer_b1_backbone, out_indices=(3, )),
        dict(type='mmpretrain.GlobalAveragePooling'),
        dict(type='EmbeddingNeck', in_channels=256, out_channels=embedding_dim),
    ],
    # num_subcenters=3 gives sub-center ArcFace
    head=dict(type='mmpretrain.ArcFaceClsHead', in_channels=embedding_dim, scale=30.,
              margins=0.3, loss=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0)),
    recall_ks=(1, 2, 4, 8),
    map_topk=10,
    data_preprocessor=data_preprocessor)
