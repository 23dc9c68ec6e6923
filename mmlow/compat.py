"""Fixes for the pinned stack (torch 2.14, numpy 2.4, mmengine 0.10.7), applied once on import.

Each fix is the narrowest one that works; see ../shared/REFERENCE.md (stack facts) for the
failures they answer.
"""
import contextlib
import itertools
import os
import random
import re

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


def load_weights_only(path: str):
    """``torch.load(path, weights_only=True)``; a refusal becomes a CheckpointError that names
    the object the file wanted to unpickle (torch's own message suggests weights_only=False)."""
    from mmlow.errors import CheckpointError
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # pickle refusals and damaged files come in many types
        unsafe = re.search(r'(?:Unsupported global: GLOBAL|unsupported GLOBAL) ([\w.]+)',
                           str(exc))
        reason = (f'it needs to unpickle {unsafe.group(1)}, which could run arbitrary code'
                  if unsafe else f'{type(exc).__name__}: {str(exc).splitlines()[0]}')
        raise CheckpointError(
            f'cannot read {path!r} as a weights-only checkpoint ({reason}). mmlow never '
            'unpickles arbitrary objects: use a checkpoint written by mmlow / mmengine, or '
            're-save the weights alone (torch.save(model.state_dict(), ...) or '
            '.safetensors)') from exc


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


class SampleIndex(int):
    """A dataset index that carries the seed of that sample's random augmentation."""

    def __new__(cls, index: int, seed: int):
        obj = super().__new__(cls, index)
        obj.seed = seed
        return obj

    def __reduce__(self):
        return SampleIndex, (int(self), self.seed)


def derived_seed(seed: int, *keys: int) -> int:
    """The seed of one draw of a run: a function of the run's seed and what names the draw
    (epoch and index of a sample, iteration of a step), never of the history before it."""
    return int(np.random.SeedSequence([seed % 2**32, *keys]).generate_state(1)[0])


@contextlib.contextmanager
def _seeded_randomness(seed: int):
    """Seed python, numpy and torch for one sample, then give the caller its streams back."""
    from mmengine.runner import set_random_seed
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    set_random_seed(seed)
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


def _per_sample_augmentation_seeds():
    """Exact resume: augment each sample from a seed of (run seed, epoch, index), or in an
    iteration-based run of (run seed, place of the draw in the sampler's stream, index).

    Data workers draw augmentations from RNG streams seeded once, when they start. With
    ``persistent_workers`` an uninterrupted run carries those streams from epoch to epoch, but
    a resumed run starts fresh workers, so its later epochs flip and crop differently (and no
    checkpoint can hold a worker's RNG); without workers, the samples an iteration-based run
    replays on resume draw from the main process's streams at another point of their history.
    The sampler gives each index the seed it is augmented with instead: then augmentation
    depends on neither the workers' history nor their number.
    """
    from mmengine.dataset import (BaseDataset, ClassBalancedDataset, ConcatDataset,
                                  DefaultSampler, InfiniteSampler, RepeatDataset)
    iterate = DefaultSampler.__iter__

    def __iter__(self):
        return (SampleIndex(index, derived_seed(self.seed, self.epoch, index))
                for index in iterate(self))

    DefaultSampler.__iter__ = __iter__

    def indices_of_rank(self):
        # the place in the stream that all ranks share, so that 1 and N processes agree
        draws = itertools.islice(enumerate(self._infinite_indices()), self.rank, None,
                                 self.world_size)
        return (SampleIndex(index, derived_seed(self.seed, place, index))
                for place, index in draws)

    InfiniteSampler._indices_of_rank = indices_of_rank

    for cls in (BaseDataset, ClassBalancedDataset, ConcatDataset, RepeatDataset):
        def seeded_getitem(self, idx, _getitem=cls.__getitem__):
            seed = getattr(idx, 'seed', None)
            if seed is None:
                return _getitem(self, idx)
            with _seeded_randomness(seed):
                return _getitem(self, int(idx))

        cls.__getitem__ = seeded_getitem


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
    _per_sample_augmentation_seeds()
    _APPLIED = True
