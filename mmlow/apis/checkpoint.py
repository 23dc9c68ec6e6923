"""Checkpoints as the tools use them: found in a work dir (wherever it now lives), read safely,
and checked against the model before anything is loaded into it."""
import functools
import glob
import os
import os.path as osp
import re
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log

from mmlow.compat import load_weights_only
from mmlow.converters import FAMILIES
from mmlow.errors import CheckpointError
from mmlow.models.weights import describe_mismatch

_TEMPORARY = re.compile(r'\.tmp-(\d+)$')


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
    from mmlow.models.backbones import (EfficientFormer, EfficientFormerV2, EfficientViTMSRA,
                                        LowFormer)
    shapes = {}
    for cls in (LowFormer, EfficientViTMSRA, EfficientFormer, EfficientFormerV2):
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
        raise CheckpointError(f'{message} {advice}, or pass --strict false to load the '
                              'matching weights anyway.')
    print_log(f'{message} Loading the matching weights only (--strict false).',
              logger='current', level=30)


def latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint named by ``work_dir/last_checkpoint``, resolved inside ``work_dir``.

    mmengine writes an absolute path there; a copied work dir would resume from the original
    run's file and a moved one from nowhere. The file of that name inside ``work_dir`` wins.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        recorded = f.read().strip()
    local = osp.join(work_dir, osp.basename(recorded))
    if osp.isfile(local):
        return local
    recorded = recorded if osp.isabs(recorded) else osp.join(work_dir, recorded)
    if osp.isfile(recorded):
        return recorded
    raise CheckpointError(f'{pointer} names {recorded!r}, which is neither in {work_dir} nor at '
                          'that path: pass the .pth file to use explicitly')


def resolve_checkpoint(path: str) -> str:
    """A checkpoint file, or a work dir whose `last_checkpoint` names one."""
    if osp.isdir(path):
        found = latest_checkpoint(path)
        if found is None:
            raise CheckpointError(f'{path!r} is a folder without a last_checkpoint file: '
                                  'pass the .pth file itself')
        path = found
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint {path!r} does not exist')
    return path


def remove_orphaned_temporaries(work_dir: str) -> List[str]:
    """Delete ``*.tmp-PID`` files (atomic writes, mmlow.fileio) whose writer is dead."""
    removed = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.tmp-*')):
        match = _TEMPORARY.search(path)
        if match is None or _process_alive(int(match.group(1))):
            continue
        try:
            os.remove(path)
        except FileNotFoundError:  # another rank of the same run removed it first
            continue
        removed.append(path)
    if removed:
        print_log(f'removed {len(removed)} unfinished checkpoint file(s) of killed runs: '
                  f'{", ".join(osp.basename(p) for p in removed)}', logger='current')
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
