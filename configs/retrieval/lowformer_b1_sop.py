# Image retrieval with a LowFormer-B1 embedding on Stanford Online Products. Protocol in README
# (Retrieval): 224x224 crops, a 512-d L2-normalised embedding, ArcFace (scale 30, margin 0.3),
# AdamW, cosine decay. No validation during training (nothing is selected on the test split):
# the last checkpoint is the result, tools/test.py evaluates it (docs/retrieval_protocol.md).
_base_ = [
    '../_base_/models/retrieval_lowformer_b1.py',
    '../_base_/datasets/sop_retrieval.py',
    '../_base_/schedules/retrieval_adamw_40e.py',
    '../_base_/mmlow.py',
]

model = dict(head=dict(num_classes={{_base_.num_train_classes}}),
             prototype={{_base_.gallery_dataloader}},
             gallery_is_query={{_base_.gallery_is_query}},
             recall_ks={{_base_.recall_ks}})
