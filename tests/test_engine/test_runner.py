"""What mmlow's configs name to get its guarantees, and the runner that honours them."""
import glob
import os
import re
import socket

import pytest
import torch
from mmengine.config import Config

from tests.conftest import REPO_ROOT

EVERY_CONFIG = sorted(os.path.relpath(path, REPO_ROOT) for path in
                      glob.glob(os.path.join(REPO_ROOT, 'configs', '[!_]*', '*.py')))
# a backbone swap inherits its task's config and changes the backbone only
SWAP = re.compile(r"^_base_ = '\./[\w.-]+\.py'$", re.MULTILINE)
TASK_CONFIGS = [config for config in EVERY_CONFIG
                if not SWAP.search(open(os.path.join(REPO_ROOT, config)).read())]


def test_every_config_names_the_runner_sampler_and_checkpoint_hook_of_its_guarantees():
    """README, "What mmlow guarantees": exact resume needs a seeded sampler and mmlow's
    runner, atomic weights-only checkpoints the AtomicCheckpointHook."""
    missing = {}
    for config in TASK_CONFIGS:
        cfg = Config.fromfile(os.path.join(REPO_ROOT, config))
        named = (cfg.get('runner_type'), cfg.train_dataloader.sampler.type,
                 cfg.default_hooks.checkpoint.type)
        if named[0] != 'MMLowRunner' or named[2] != 'AtomicCheckpointHook' or \
                named[1] not in ('SeededSampler', 'SeededInfiniteSampler'):
            missing[config] = named
    assert len(EVERY_CONFIG) > 80 and len(TASK_CONFIGS) > 10 and not missing


@pytest.mark.skipif(torch.cuda.is_available(), reason='the upstream bug needs a machine '
                    'without CUDA')
def test_mmengine_still_pins_cpu_processes_to_a_cuda_device(monkeypatch):
    """The upstream bug MMLowRunner.setup_env works around: when this fails, mmengine joins
    CPU process groups by itself and the workaround can go."""
    from mmengine.dist.utils import _init_dist_pytorch
    with socket.socket() as free:
        free.bind(('127.0.0.1', 0))
        port = free.getsockname()[1]
    for key, value in dict(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1',
                           MASTER_PORT=str(port)).items():
        monkeypatch.setenv(key, value)
    try:
        with pytest.raises((RuntimeError, AssertionError)):
            _init_dist_pytorch('gloo')
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
