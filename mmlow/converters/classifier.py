def image_classifier(backbone: dict, head: dict) -> dict:
    """An mmpretrain ImageClassifier config for a family's ImageNet model.

    Scoped type names keep it buildable while another scope (mmdet, mmseg) is the current one.
    """
    return dict(type='mmpretrain.ImageClassifier',
                data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor'),
                backbone=backbone, head=head)
