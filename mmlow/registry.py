"""mmlow registers into mmengine's *root* registries.

mmdet, mmseg and mmpretrain registries are children of the root ones, and a child looks a name up
in its ancestors when it does not hold it; so one registration here makes ``type='LowFormer'``
resolvable from configs whose ``default_scope`` is any of them.

``CHECKPOINT_READERS`` maps a backbone family to ``read(path) -> (state_dict, layout)``, the
mmlow-layout weights of any checkpoint of that family. ``mmlow.converters`` fills it; backbones
look their family up here, so that models never import the converters.
"""
from typing import Callable, Dict, Tuple

from mmengine.registry import (DATA_SAMPLERS, DATASETS, HOOKS, METRICS, MODELS, RUNNERS,
                               TRANSFORMS)

CHECKPOINT_READERS: Dict[str, Callable[[str], Tuple[dict, str]]] = {}

__all__ = [
    'CHECKPOINT_READERS', 'DATA_SAMPLERS', 'DATASETS', 'HOOKS', 'METRICS', 'MODELS', 'RUNNERS',
    'TRANSFORMS'
]
