"""Samplers that give every sample the seed of its random augmentation (exact resume).

Data workers draw augmentations from RNG streams seeded once, when they start. With
``persistent_workers`` an uninterrupted run carries those streams from epoch to epoch, but a
resumed run starts fresh workers, so its later epochs flip and crop differently (and no
checkpoint can hold a worker's RNG); without workers, the samples an iteration-based run
replays on resume draw from the main process's streams at another point of their history.
These samplers attach to each index the seed it is augmented with, a function of the run seed,
the epoch (or the place of the draw in an iteration-based stream) and the index; the
:class:`~mmlow.datasets.SeededDataset` that :class:`~mmlow.engine.MMLowRunner` puts around
every dataset augments the sample from it. Then augmentation depends on neither the workers'
history nor their number.
"""
import contextlib
import itertools
import random
from typing import Iterator

import numpy as np
import torch
from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmlow.registry import DATA_SAMPLERS


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
def seeded_randomness(seed: int):
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


@DATA_SAMPLERS.register_module()
class SeededSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` whose indices carry the seed of (run seed, epoch, index)."""

    def __iter__(self) -> Iterator[SampleIndex]:
        return (SampleIndex(index, derived_seed(self.seed, self.epoch, index))
                for index in super().__iter__())


@DATA_SAMPLERS.register_module()
class SeededInfiniteSampler(InfiniteSampler):
    """mmengine's ``InfiniteSampler`` whose draws carry the seed of (run seed, place of the
    draw in the stream that all ranks share, index), so that 1 and N processes agree."""

    def _indices_of_rank(self) -> Iterator[SampleIndex]:
        draws = itertools.islice(enumerate(self._infinite_indices()), self.rank, None,
                                 self.world_size)
        return (SampleIndex(index, derived_seed(self.seed, place, index))
                for place, index in draws)
