"""Checkpoints read safely (weights only) and checked against the model before anything is
loaded into it: the one way every tool and API loads a model's weights."""
import functools
import os.path as osp
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log

from mmlow.compat import load_weights_only
from mmlow.converters import FAMILIES
from mmlow.errors import CheckpointError
from mmlow.models.weights import describe_mismatch


def read_checkpoint(path: str) -> dict:
    """The checkpoint as a dict, read with weights_only; refusals become a CheckpointError."""
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint {path!r} does not exist: pass an existing .pth file '
                              'or a work dir that holds one')
    checkpoint = load_weights_only(path)
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'{path!r} holds a {type(checkpoint).__name__}, not a checkpoint '
                              'dict')
    return checkpoint


def state_dict_of(checkpoint: dict) -> Dict[str, torch.Tensor]:
    state_dict = checkpoint.get('state_dict', checkpoint)
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state_dict.items() if isinstance(v, torch.Tensor)}


@functools.lru_cache(maxsize=None)
def _variant_shapes() -> Dict[str, Dict[str, tuple]]:
    """Parameter shapes of every named backbone variant, built on the meta device (no memory)."""
    from mmlow.models.backbones import FAMILIES as BACKBONES
    shapes = {}
    for cls in BACKBONES.values():
        for arch in cls.arch_zoo:
            with torch.device('meta'):
                backbone = cls(arch=arch)
            shapes[f'{cls.family}_{arch}'] = {
                k: tuple(v.shape) for k, v in backbone.state_dict().items()}
    return shapes


def _backbone_part(state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    prefixed = {k[len('backbone.'):]: v for k, v in state_dict.items()
                if k.startswith('backbone.')}
    if prefixed:
        return prefixed
    for module in FAMILIES.values():
        layout = module.detect_layout(state_dict.keys())
        if layout is not None:
            return _backbone_part(module.to_mmlow(state_dict, layout))
    return {}


def guess_arch(state_dict: Dict[str, torch.Tensor]) -> Optional[str]:
    """The mmlow backbone variant (e.g. 'lowformer_b1') whose parameters the checkpoint holds."""
    backbone = {k: tuple(v.shape) for k, v in _backbone_part(state_dict).items()}
    if not backbone:
        return None
    for name, shapes in _variant_shapes().items():
        if shapes == backbone:
            return name
    return None


def check_checkpoint_fits(model: nn.Module, path: str, strict: bool = True,
                          checkpoint: Optional[dict] = None) -> None:
    """Refuse (strict) or warn about a checkpoint whose weights do not fit ``model`` exactly.

    mmengine loads checkpoints non-strictly: a checkpoint of another architecture would load
    partly and evaluate to a silently wrong result.
    """
    model = getattr(model, 'module', model)
    state_dict = state_dict_of(checkpoint if checkpoint is not None else read_checkpoint(path))
    mismatch = describe_mismatch(model, state_dict)
    if not mismatch:
        return
    made_for, model_arch = guess_arch(state_dict), guess_arch(model.state_dict())
    message = (f'checkpoint {path!r} does not fit the model of this config'
               f'{f" (backbone {model_arch})" if model_arch else ""}: {mismatch}. '
               'It seems made for '
               f'{made_for or "a backbone mmlow does not recognise"}.')
    if strict:
        advice = 'Use the config it was trained with'
        if made_for:
            advice += f' (backbone arch {made_for.split("_", 1)[1]!r})'
        raise CheckpointError(f'{message} {advice}, or load the matching weights anyway '
                              '(--strict false in tools/train.py and tools/test.py, '
                              'strict=False in the API).')
    print_log(f'{message} Loading the matching weights only (--strict false).',
              logger='current', level=30)


def load_checkpoint(model: nn.Module, path: str, strict: bool = True) -> dict:
    """Load ``path``'s weights into ``model`` after checking that they fit it (see
    :func:`check_checkpoint_fits`); returns the checkpoint."""
    checkpoint = read_checkpoint(path)
    check_checkpoint_fits(model, path, strict, checkpoint)
    getattr(model, 'module', model).load_state_dict(state_dict_of(checkpoint), strict=False)
    return checkpoint
