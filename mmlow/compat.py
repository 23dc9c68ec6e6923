"""The pinned stack's (torch 2.14, numpy 2.4, mmengine 0.10.7) rules for reading checkpoints.

Importing mmlow changes no class or function of mmengine / mmdet / mmseg / mmpretrain: what mmlow
adds, a config names (docs/guarantees.md). What is here feeds torch's own
allow-list API, once on import, with the non-tensor types of mmengine's training checkpoints.
"""
import re

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

_APPLIED = False


class SafeHistoryBuffer(HistoryBuffer):
    """A HistoryBuffer that pickles without its statistics *functions*.

    mmengine pickles the class-level registry of statistics functions into every checkpoint
    (as ``getattr(HistoryBuffer, 'min')`` ...), which a weights-only load must refuse.
    They are re-registered on import and ``HistoryBuffer.__setstate__`` restores the defaults, so
    :class:`~mmlow.engine.AtomicCheckpointHook` saves the message hub's buffers as this class.
    """

    @classmethod
    def of(cls, buffer: HistoryBuffer) -> 'SafeHistoryBuffer':
        safe = cls.__new__(cls)
        safe.__dict__.update(buffer.__dict__)
        return safe

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop('statistics_methods', None)
        return state


def _checkpoint_safe_globals():
    """The exact non-tensor globals that mmlow's training checkpoints hold.

    torch >= 2.6 loads with weights_only=True; mmengine's message hub pickles HistoryBuffer
    objects that carry numpy arrays and scalars. ``builtins.getattr`` is deliberately absent:
    allowing it would let a checkpoint reach arbitrary attributes.
    """
    allowed = [
        HistoryBuffer,
        SafeHistoryBuffer,
        np.ndarray,
        np.dtype,
        np._core.multiarray._reconstruct,
        np._core.multiarray.scalar,
    ]
    # numpy 2 pickles dtypes through their per-type classes (numpy.dtypes.Float64DType, ...)
    allowed += [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    return allowed


def _refusal_reason(exc: Exception) -> str:
    """Why torch refused a file, without torch's advice to load it with weights_only=False."""
    text = str(exc)
    unsafe = re.search(r'(?:Unsupported global: GLOBAL|unsupported GLOBAL) ([\w.]+)', text)
    if unsafe:
        return f'it needs to unpickle {unsafe.group(1)}, which could run arbitrary code'
    detail = re.search(r'WeightsUnpickler error:\s*(.+?)\n', text + '\n')
    if detail or 'weights_only' in text:
        what = f' ({detail.group(1).strip()})' if detail else ''
        return (f'not a checkpoint torch can read{what}: damaged, truncated or another kind '
                'of file')
    return f'{type(exc).__name__}: {text.splitlines()[0] if text else "empty or truncated file"}'


def load_weights_only(path: str):
    """``torch.load(path, weights_only=True)``; a refusal becomes a CheckpointError that names
    the object the file wanted to unpickle (torch's own message suggests weights_only=False)."""
    from mmlow.errors import CheckpointError
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # pickle refusals and damaged files come in many types
        reason = _refusal_reason(exc)
        raise CheckpointError(
            f'cannot read {path!r} as a weights-only checkpoint ({reason}). mmlow never '
            'unpickles arbitrary objects: use a checkpoint written by mmlow / mmengine, or '
            're-save the weights alone (torch.save(model.state_dict(), ...) or '
            '.safetensors)') from exc


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    torch.serialization.add_safe_globals(_checkpoint_safe_globals())
    _APPLIED = True
