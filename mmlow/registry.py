"""mmlow registers into mmengine's *root* registries.

mmdet, mmseg and mmpretrain registries are children of the root ones, and a child looks a name up
in its ancestors when it does not hold it; so one registration here makes ``type='LowFormer'``
resolvable from configs whose ``default_scope`` is any of them.
"""
from mmengine.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS

__all__ = ['DATASETS', 'HOOKS', 'METRICS', 'MODELS', 'TRANSFORMS']
