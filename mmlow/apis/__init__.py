"""The inference API a user calls, as mmdet's: ``init_model`` for every task (one checkpoint
loader: weights-only, checked against the model), then ``inference_retriever`` (nearest
gallery images) or ``inference_tracker`` (boxes through frames); detectors and segmenters from
``init_model`` work with mmdet's / mmseg's own ``inference_detector`` / ``inference_model``."""
from mmlow.checkpoint import (check_checkpoint_fits, guess_arch, load_checkpoint,
                              read_checkpoint)
from .inference import init_model
from .retrieval import inference_retriever
from .tracking import inference_tracker

__all__ = ['check_checkpoint_fits', 'guess_arch', 'inference_retriever', 'inference_tracker',
           'init_model', 'load_checkpoint', 'read_checkpoint']
