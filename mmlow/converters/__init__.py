"""Checkpoint conversion: one entry point for every backbone family.

A family module provides ``LAYOUTS``, ``detect_layout(keys)``, ``to_mmlow(state_dict, layout)``
and ``classifier_cfg(arch, num_classes)``. mmlow's layout is that of an mmpretrain
``ImageClassifier`` (``backbone.*``, ``head.*``), so converted files also load into mmpretrain.
"""
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from . import efficientformer, efficientformer_v2, efficientvit, lowformer

FAMILIES = {'efficientformer': efficientformer, 'efficientformerv2': efficientformer_v2,
            'efficientvit': efficientvit, 'lowformer': lowformer}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used as asked; the message says why and what to do."""


def parse_arch(name: str) -> Tuple[str, str]:
    """'lowformer_b1' -> ('lowformer', 'b1')."""
    family, _, arch = name.lower().partition('_')
    if family not in FAMILIES or not arch:
        raise CheckpointError(f'unknown arch {name!r}: expected <family>_<variant> with family '
                              f'one of {sorted(FAMILIES)}, e.g. lowformer_b1')
    return family, arch


def load_state_dict_file(path: str) -> Dict[str, torch.Tensor]:
    """Read a checkpoint's tensors safely (weights_only / safetensors), unwrapping containers."""
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint {path!r} does not exist')
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        return load_file(path, device='cpu')
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # pickle errors come in many types; all mean the same to the user
        raise CheckpointError(
            f'cannot read {path!r} as a weights-only checkpoint ({type(exc).__name__}: {exc}). '
            'mmlow never unpickles arbitrary objects: re-save the file with only tensors '
            '(torch.save(model.state_dict(), ...)) or as .safetensors') from exc
    for wrapper in ('state_dict', 'model', 'module'):
        if isinstance(obj, dict) and isinstance(obj.get(wrapper), dict):
            obj = obj[wrapper]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f'{path!r} holds no state dict of tensors')
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in obj.items()}


def convert_state_dict(state_dict: Dict[str, torch.Tensor],
                       family: str) -> Tuple[Dict[str, torch.Tensor], str]:
    """Convert any known layout of ``family`` to mmlow's; returns (state_dict, source layout)."""
    module = FAMILIES[family]
    layout = module.detect_layout(state_dict.keys())
    if layout is None:
        sample = ', '.join(list(state_dict)[:4])
        raise CheckpointError(
            f'the checkpoint matches none of the {family} layouts {module.LAYOUTS} '
            f'(first keys: {sample}). Is it a {family} checkpoint?')
    return module.to_mmlow(state_dict, layout), layout


def _describe_mismatch(model: nn.Module, state_dict: Dict[str, torch.Tensor]) -> str:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    wrong_shape = [f'{k}: checkpoint {tuple(state_dict[k].shape)} vs model '
                   f'{tuple(expected[k].shape)}'
                   for k in sorted(set(expected) & set(state_dict))
                   if state_dict[k].shape != expected[k].shape]
    parts = []
    for title, items in (('missing', missing), ('unexpected', unexpected),
                         ('shape mismatch', wrong_shape)):
        if items:
            parts.append(f'{len(items)} {title} (e.g. {"; ".join(items[:3])})')
    return ', '.join(parts)


def load_strict(model: nn.Module, state_dict: Dict[str, torch.Tensor], what: str) -> None:
    """Load every tensor or raise a CheckpointError describing what does not match."""
    mismatch = _describe_mismatch(model, state_dict)
    if mismatch:
        raise CheckpointError(f'{what} does not fit {type(model).__name__}: {mismatch}. '
                              'Was it made for another architecture variant?')
    model.load_state_dict(state_dict, strict=True)


def load_pretrained_backbone(backbone: nn.Module, checkpoint: str,
                             prefix: Optional[str] = 'backbone.') -> None:
    """Load a backbone from an mmlow, official or timm checkpoint of its family."""
    from mmengine.logging import print_log
    state_dict = load_state_dict_file(checkpoint)
    state_dict, layout = convert_state_dict(state_dict, backbone.family)
    if prefix:
        state_dict = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    if getattr(backbone, 'deploy', False):
        raise CheckpointError('load pretrained weights before switching to deploy mode')
    load_strict(backbone, state_dict, f'checkpoint {checkpoint!r} ({layout} layout)')
    print_log(f'loaded {type(backbone).__name__} weights from {checkpoint} ({layout} layout)',
              logger='current')


def build_classifier(name: str, num_classes: int = 1000) -> nn.Module:
    """The family's ImageNet classifier (an mmpretrain ImageClassifier) for arch ``name``."""
    from mmengine.registry import DefaultScope

    from mmlow.registry import MODELS
    family, arch = parse_arch(name)
    # its parts (data preprocessor, ...) are mmpretrain's, whatever scope is current
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(FAMILIES[family].classifier_cfg(arch, num_classes))


def save_atomic(obj, path: str) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp-{os.getpid()}'
    torch.save(obj, tmp)
    os.replace(tmp, path)


def convert_file(src: str, dst: str, name: str) -> str:
    """Convert ``src`` to mmlow's layout for arch ``name``, check it loads, write ``dst``.

    Returns the detected source layout.
    """
    family, arch = parse_arch(name)
    state_dict, layout = convert_state_dict(load_state_dict_file(src), family)
    fc_weight = state_dict.get('head.fc.weight')
    num_classes = fc_weight.shape[0] if fc_weight is not None else 1000
    model = build_classifier(name, num_classes)
    if not any(k.startswith('head.') for k in state_dict):
        model = model.backbone
        state_dict = {k[len('backbone.'):]: v for k, v in state_dict.items()}
        state_dict_to_save = {f'backbone.{k}': v for k, v in state_dict.items()}
    else:
        state_dict_to_save = state_dict
    load_strict(model, state_dict, f'{src!r} ({layout} layout)')
    save_atomic({'state_dict': state_dict_to_save,
                 'meta': {'arch': name, 'source_layout': layout, 'converter': 'mmlow'}}, dst)
    return layout
