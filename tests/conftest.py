import os

import pytest
import torch

os.environ.setdefault('OMP_NUM_THREADS', '2')

import mmlow  # noqa: E402,F401
from mmlow.reports.timm_pair import timm_pair as _timm_pair  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def randomize_(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Random weights *and* BN statistics, so a mis-mapped norm cannot hide behind identity."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if name.endswith('running_var'):
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.1)
    return model


def timm_pair(name: str, seed: int = 0, size: int = 224):
    """(timm model with random weights and BN statistics, mmlow classifier with the same
    weights), both in eval mode; the classifier's backbone returns every stage."""
    return _timm_pair(name, size, prepare=lambda model: randomize_(model, seed))


@pytest.fixture(scope='module')
def single_thread():
    """Attention that runs many tiny ops per head: on a shared 2-core machine a second thread
    only waits for the other jobs and makes such tests ~10x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _managed_classes():
    """mmengine's process-global registries of named instances (loggers, visualizers, scopes,
    message hubs)."""
    from mmengine.logging import MessageHub, MMLogger
    from mmengine.registry import DefaultScope
    from mmengine.visualization import Visualizer
    classes, todo = [], [MMLogger, MessageHub, DefaultScope, Visualizer]
    while todo:
        cls = todo.pop()
        classes.append(cls)
        todo.extend(cls.__subclasses__())
    return classes


@pytest.fixture(autouse=True)
def fresh_mmengine_instances():
    """Each test starts from the named instances that existed before it: a runner built in the
    same second as an earlier test's (same experiment name) or with mmdet's fixed visualizer
    name would otherwise get that test's logger, whose stream pytest has closed, and its
    visualizer, which writes into that test's work dir."""
    before = {cls: set(cls._instance_dict) for cls in _managed_classes()}
    yield
    for cls in _managed_classes():
        for name in set(cls._instance_dict) - before.get(cls, set()):
            instance = cls._instance_dict.pop(name)
            for handler in getattr(instance, 'handlers', []):
                handler.close()
                instance.removeHandler(handler)


@pytest.fixture
def repo_root():
    return REPO_ROOT
