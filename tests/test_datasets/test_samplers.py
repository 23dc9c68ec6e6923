import itertools
import os
import random

import numpy as np
import torch
from mmengine.registry import DefaultScope

from mmlow.datasets import SeededDataset, SeededInfiniteSampler, SeededSampler
from mmlow.registry import DATASETS
from tests.conftest import REPO_ROOT
from tests.tiny_configs import tiny_shapes_cfg


def test_augmentation_depends_only_on_seed_epoch_and_index(tmp_path):
    """What makes resume exact with persistent data workers (see test_kill_resume.py)."""
    config = os.path.join(REPO_ROOT, 'configs/detection/retinanet_lowformer_b1_shapes.py')
    cfg = tiny_shapes_cfg(config, str(tmp_path / 'shapes'), str(tmp_path / 'work'), num_train=8)
    with DefaultScope.overwrite_default_scope('mmdet'):
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
    dataset = SeededDataset(dataset)
    sampler = SeededSampler(dataset, shuffle=True, seed=3)

    def flips(epoch, rng_seed):
        sampler.set_epoch(epoch)
        random.seed(rng_seed)
        np.random.seed(rng_seed)
        torch.manual_seed(rng_seed)
        state = np.random.get_state()[1].copy()
        flipped = [dataset[index]['data_samples'].flip for index in sampler]
        assert (np.random.get_state()[1] == state).all()  # the caller's stream is untouched
        return flipped

    first = flips(1, rng_seed=0)
    assert first == flips(1, rng_seed=1)  # a fresh worker augments as a long-running one
    assert first != flips(2, rng_seed=0)  # and every epoch differently


def _ranks_of(world_size, **sampler_args):
    samplers = []
    for rank in range(world_size):
        sampler = SeededInfiniteSampler(list(range(5)), **sampler_args)
        sampler.rank, sampler.world_size = rank, world_size
        sampler.indices = sampler._indices_of_rank()
        samplers.append(sampler)
    return samplers


def test_infinite_sampler_seeds_each_draw_by_its_place_in_the_stream():
    """What makes an iteration-based run's replay on resume exact (see test_kill_resume.py):
    a draw's seed is a function of the run seed and its place in the stream shared by all
    ranks, so two processes augment each draw as one process does."""
    (alone, ) = _ranks_of(1, seed=3)
    draws = list(itertools.islice(alone, 12))
    assert len({draw.seed for draw in draws}) == 12  # the same index recurs, seeded anew
    again = list(itertools.islice(_ranks_of(1, seed=3)[0], 12))
    assert [(int(d), d.seed) for d in again] == [(int(d), d.seed) for d in draws]
    first, second = (iter(sampler) for sampler in _ranks_of(2, seed=3))
    shared = [next(first) if place % 2 == 0 else next(second) for place in range(12)]
    assert [(int(d), d.seed) for d in shared] == [(int(d), d.seed) for d in draws]
    other_run = list(itertools.islice(_ranks_of(1, seed=4)[0], 12))
    assert [d.seed for d in other_run] != [d.seed for d in draws]
