"""Checkpoint layouts per backbone family: reading files and mapping their keys to mmlow's.

A family module provides ``LAYOUTS``, ``detect_layout(keys)`` and ``to_mmlow(state_dict,
layout)``. mmlow's layout is that of an mmpretrain ``ImageClassifier`` (``backbone.*``,
``head.*``), so converted files also load into mmpretrain. Nothing here imports the models:
importing this package registers one checkpoint reader per family in
``mmlow.registry.CHECKPOINT_READERS``, through which backbones load ``Pretrained`` weights.
"""
import os.path as osp
from typing import Dict, Tuple

import torch

from mmlow.compat import load_weights_only
from mmlow.registry import CHECKPOINT_READERS
from . import efficientformer, efficientformer_v2, efficientvit, lowformer
from .errors import CheckpointError

FAMILIES = {'efficientformer': efficientformer, 'efficientformerv2': efficientformer_v2,
            'efficientvit': efficientvit, 'lowformer': lowformer}

__all__ = ['FAMILIES', 'CheckpointError', 'convert_state_dict', 'load_state_dict_file',
           'read_backbone_checkpoint']


def load_state_dict_file(path: str) -> Dict[str, torch.Tensor]:
    """Read a checkpoint's tensors safely (weights_only / safetensors), unwrapping containers."""
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint {path!r} does not exist')
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        return load_file(path, device='cpu')
    obj = load_weights_only(path)
    for wrapper in ('state_dict', 'model', 'module'):
        if isinstance(obj, dict) and isinstance(obj.get(wrapper), dict):
            obj = obj[wrapper]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f'{path!r} holds no state dict of tensors')
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in obj.items()}


def convert_state_dict(state_dict: Dict[str, torch.Tensor],
                       family: str) -> Tuple[Dict[str, torch.Tensor], str]:
    """Convert any known layout of ``family`` to mmlow's; returns (state_dict, source layout)."""
    if family not in FAMILIES:
        raise CheckpointError(f'no checkpoint layouts known for family {family!r}; known: '
                              f'{sorted(FAMILIES)}')
    module = FAMILIES[family]
    layout = module.detect_layout(state_dict.keys())
    if layout is None:
        sample = ', '.join(list(state_dict)[:4])
        raise CheckpointError(
            f'the checkpoint matches none of the {family} layouts {module.LAYOUTS} '
            f'(first keys: {sample}). Is it a {family} checkpoint?')
    return module.to_mmlow(state_dict, layout), layout


def read_backbone_checkpoint(path: str, family: str) -> Tuple[Dict[str, torch.Tensor], str]:
    """mmlow-layout weights of a ``family`` checkpoint file in any known layout, and that
    layout."""
    return convert_state_dict(load_state_dict_file(path), family)


def _register_readers() -> None:
    for family in FAMILIES:
        CHECKPOINT_READERS[family] = (lambda path, family=family:
                                      read_backbone_checkpoint(path, family))


_register_readers()
