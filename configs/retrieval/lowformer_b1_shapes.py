# LowFormer-B1 retrieval on the embedded shapes retrieval split: the model of the real-data
# configs with a 128-d embedding, trained from scratch (no ImageNet weights offline) on the
# shapes data and schedule. ArcFace with a softer scale and margin (16, 0.1) than on real data:
# from scratch, scale 30 / margin 0.3 did not start learning at all on 570 identities.
_base_ = [
    '../_base_/models/retrieval_lowformer_b1.py',
    '../_base_/datasets/shapes_retrieval.py',
    '../_base_/schedules/shapes_retrieval.py',
    '../_base_/mmlow.py',
]

embedding_dim = 128
model = dict(
    image_encoder=[
        dict(type='LowFormer', arch='b1', out_indices=(3, ), drop_path_rate=0., init_cfg=None),
        dict(type='mmpretrain.GlobalAveragePooling'),
        dict(type='EmbeddingNeck', in_channels=256, out_channels=embedding_dim),
    ],
    head=dict(num_classes={{_base_.num_train_classes}}, in_channels=embedding_dim, scale=16.,
              margins=0.1),
    prototype={{_base_.gallery_dataloader}},
    gallery_is_query={{_base_.gallery_is_query}},
    recall_ks={{_base_.recall_ks}})
