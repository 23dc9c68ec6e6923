import io
import itertools
import os
import pickle
import random

import numpy as np
import pytest
import torch
from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmengine.fileio import get_file_backend
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope

from mmlow.registry import DATASETS
from tests.conftest import REPO_ROOT
from tests.tiny_configs import tiny_shapes_cfg


def test_training_state_loads_with_weights_only():
    hub = MessageHub.get_instance('test_compat')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', torch.tensor(0.5))
    hub.update_info('iter', 7)
    buffer = io.BytesIO()
    torch.save({'message_hub': hub.state_dict(), 'meta': {'seed': 0}}, buffer)
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(buffer.getvalue()))
    assert 'builtins.getattr' not in unsafe
    loaded = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    restored = MessageHub.get_instance('test_compat_restored')
    restored.load_state_dict(loaded['message_hub'])
    assert restored.get_scalar('train/loss').mean() == pytest.approx(1.0)
    assert restored.get_scalar('train/loss').current() == pytest.approx(0.5)


def test_arbitrary_callables_still_refused():
    buffer = io.BytesIO()
    torch.save({'fn': os.system}, buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match='posix.system'):
        torch.load(buffer, weights_only=True)


def test_local_writes_are_atomic(tmp_path, monkeypatch):
    backend = get_file_backend(str(tmp_path))
    target = tmp_path / 'sub' / 'ckpt.pth'
    backend.put(b'first', str(target))
    assert target.read_bytes() == b'first'

    # a failure mid-write must leave the previous file intact and no temporary behind
    real_fsync = os.fsync

    def failing_fsync(fd):
        raise OSError('disk full')
    monkeypatch.setattr(os, 'fsync', failing_fsync)
    with pytest.raises(OSError):
        backend.put(b'second', str(target))
    monkeypatch.setattr(os, 'fsync', real_fsync)
    assert target.read_bytes() == b'first'
    assert os.listdir(target.parent) == ['ckpt.pth']
    backend.put_text('text', str(tmp_path / 'last_checkpoint'))
    assert (tmp_path / 'last_checkpoint').read_text() == 'text'


def test_numpy_in1d_shim():
    assert np.in1d([1, 2, 3], [2]).tolist() == [False, True, False]
    assert np.in1d([[1, 2]], [2], invert=True).tolist() == [True, False]


def test_augmentation_depends_only_on_seed_epoch_and_index(tmp_path):
    """What makes resume exact with persistent data workers (see test_kill_resume.py)."""
    config = os.path.join(REPO_ROOT, 'configs/detection/retinanet_lowformer_b1_shapes.py')
    cfg = tiny_shapes_cfg(config, str(tmp_path / 'shapes'), str(tmp_path / 'work'), num_train=8)
    with DefaultScope.overwrite_default_scope('mmdet'):
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
    sampler = DefaultSampler(dataset, shuffle=True, seed=3)

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
        sampler = InfiniteSampler(list(range(5)), **sampler_args)
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
