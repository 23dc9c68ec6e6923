"""Fixes for the pinned stack (torch 2.14, numpy 2.4, mmengine 0.10.7), applied once on import.

Each fix is the narrowest one that works; see ../shared/REFERENCE.md (stack facts) for the
failures they answer.
"""
import os

import numpy as np
import torch

_APPLIED = False


def _checkpoint_safe_globals():
    """The exact non-tensor globals that mmengine training checkpoints hold.

    torch >= 2.6 loads with weights_only=True; mmengine's message hub pickles HistoryBuffer
    objects that carry numpy arrays and scalars. ``builtins.getattr`` is deliberately absent:
    allowing it would let a checkpoint reach arbitrary attributes. It only served to pickle
    HistoryBuffer's statistics functions, which :func:`_history_buffer_without_functions`
    keeps out of the checkpoint.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        np._core.multiarray._reconstruct,
        np._core.multiarray.scalar,
    ]
    # numpy 2 pickles dtypes through their per-type classes (numpy.dtypes.Float64DType, ...)
    allowed += [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    return allowed


def _history_buffer_without_functions():
    """mmengine pickles HistoryBuffer's registry of statistics *functions* into every checkpoint
    (as ``getattr(HistoryBuffer, 'min')`` ...). They are class-level and re-registered on import,
    so leave them out; HistoryBuffer.__setstate__ restores the defaults by itself.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop('statistics_methods', None)
        return state

    HistoryBuffer.__getstate__ = __getstate__


def _atomic_local_writes():
    """mmengine writes checkpoints and `last_checkpoint` in place; a kill mid-write loses work.

    Write to a temporary file next to the target and rename it over the target instead.
    """
    from mmengine.fileio.backends.local_backend import LocalBackend

    def _replace(data, filepath, mode, encoding=None):
        filepath = str(filepath)
        os.makedirs(os.path.dirname(os.path.abspath(filepath)), exist_ok=True)
        tmp = f'{filepath}.tmp-{os.getpid()}'
        try:
            with open(tmp, mode, encoding=encoding) as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def put(self, obj, filepath):
        _replace(obj, filepath, 'wb')

    def put_text(self, obj, filepath, encoding='utf-8'):
        _replace(obj, filepath, 'w', encoding)

    LocalBackend.put = put
    LocalBackend.put_text = put_text


def _numpy2_shims():
    """np.in1d was removed in numpy 2.4; mmpretrain's retrieval metrics still call it."""
    if not hasattr(np, 'in1d'):
        def in1d(ar1, ar2, assume_unique=False, invert=False):
            return np.isin(np.asarray(ar1).ravel(), ar2, assume_unique=assume_unique,
                           invert=invert)
        np.in1d = in1d


def _cpu_process_groups():
    """mmengine pins each process to a CUDA device before init_process_group, even for gloo
    on a machine without one (RuntimeError: no NVIDIA driver). Without CUDA, join the group
    directly; with CUDA, mmengine's own path runs unchanged."""
    from mmengine.dist import utils as dist_utils
    init_with_cuda = dist_utils._init_dist_pytorch

    def init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            return init_with_cuda(backend, init_backend=init_backend, **kwargs)
        torch.distributed.init_process_group(backend=backend, **kwargs)

    dist_utils._init_dist_pytorch = init_dist_pytorch


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    torch.serialization.add_safe_globals(_checkpoint_safe_globals())
    _history_buffer_without_functions()
    _atomic_local_writes()
    _numpy2_shims()
    _cpu_process_groups()
    _APPLIED = True
