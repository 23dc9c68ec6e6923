"""Each family's ImageNet classifier (an mmpretrain ``ImageClassifier``): what the papers'
parameter counts refer to and what classification checkpoints load into whole.

Names are ``<family>_<variant>`` as in timm, e.g. ``lowformer_b1``, ``efficientformerv2_s0``.
"""
from typing import Tuple

import torch.nn as nn
from mmengine.registry import DefaultScope

from mmlow.errors import ConfigError
from mmlow.registry import MODELS
from .backbones import FAMILIES as BACKBONES


def split_name(name: str) -> Tuple[str, str]:
    """'lowformer_b1' -> ('lowformer', 'b1')."""
    family, _, arch = name.lower().partition('_')
    if family not in BACKBONES or not arch:
        raise ConfigError(f'unknown arch {name!r}: expected <family>_<variant> with family '
                          f'one of {sorted(BACKBONES)}, e.g. lowformer_b1')
    return family, arch


def classifier_cfg(name: str, num_classes: int = 1000) -> dict:
    """Config of the ImageNet classifier ``name``, returning the last stage's features.

    Scoped type names keep it buildable while another scope (mmdet, mmseg) is the current one;
    the root-registry prefix ``mmengine.`` picks mmlow's EfficientFormer over mmpretrain's own
    (fixed-size) one of the same name.
    """
    family, arch = split_name(name)
    backbone_cls = BACKBONES[family]
    settings = backbone_cls.resolve_arch(arch)
    return dict(type='mmpretrain.ImageClassifier',
                data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor'),
                backbone=dict(type=f'mmengine.{backbone_cls.__name__}', arch=arch,
                              out_indices=(-1, )),
                head=backbone_cls.classifier_head(settings, num_classes))


def build_classifier(name: str, num_classes: int = 1000, **backbone_options) -> nn.Module:
    """Build :func:`classifier_cfg` (``backbone_options`` update its backbone)."""
    cfg = classifier_cfg(name, num_classes)
    cfg['backbone'].update(backbone_options)
    # its parts (data preprocessor, ...) are mmpretrain's, whatever scope is current
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg)
