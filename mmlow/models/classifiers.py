"""Each family's ImageNet classifier (an mmpretrain ``ImageClassifier``): what the papers'
parameter counts refer to and what classification checkpoints load into whole.

Names are ``<family>_<variant>`` as in timm, e.g. ``lowformer_b1``, ``efficientformerv2_s0``.
"""
from typing import Dict, Tuple, Type

import torch.nn as nn
from mmengine.registry import DefaultScope

from mmlow.errors import ConfigError
from mmlow.registry import MODELS
from .backbones import EfficientFormer, EfficientFormerV2, EfficientViTMSRA, LowFormer
from .backbones.base import StagedBackbone

BACKBONES: Dict[str, Type[StagedBackbone]] = {
    cls.family: cls for cls in (EfficientFormer, EfficientFormerV2, EfficientViTMSRA, LowFormer)}


def split_name(name: str) -> Tuple[str, str]:
    """'lowformer_b1' -> ('lowformer', 'b1')."""
    family, _, arch = name.lower().partition('_')
    if family not in BACKBONES or not arch:
        raise ConfigError(f'unknown arch {name!r}: expected <family>_<variant> with family '
                          f'one of {sorted(BACKBONES)}, e.g. lowformer_b1')
    return family, arch


def _head(family: str, settings: dict, num_classes: int) -> dict:
    in_channels = settings['widths'][-1]
    if family == 'lowformer':
        return dict(type='LowFormerClsHead', num_classes=num_classes, in_channels=in_channels,
                    hidden_widths=settings['head_widths'])
    if family == 'efficientvit':
        return dict(type='EfficientViTClsHead', num_classes=num_classes,
                    in_channels=in_channels)
    # V1 normalises tokens with LayerNorm before its head, V2 feature maps with BatchNorm
    norm = 'LN' if family == 'efficientformer' else 'BN'
    return dict(type='EfficientFormerNormClsHead', num_classes=num_classes,
                in_channels=in_channels, norm_cfg=dict(type=norm))


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
                head=_head(family, settings, num_classes))


def build_classifier(name: str, num_classes: int = 1000, **backbone_options) -> nn.Module:
    """Build :func:`classifier_cfg` (``backbone_options`` update its backbone)."""
    cfg = classifier_cfg(name, num_classes)
    cfg['backbone'].update(backbone_options)
    # its parts (data preprocessor, ...) are mmpretrain's, whatever scope is current
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg)
