import os
import warnings

import pytest
import torch

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
os.environ.setdefault('OMP_NUM_THREADS', '2')

import mmlow  # noqa: E402,F401

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


@pytest.fixture
def repo_root():
    return REPO_ROOT
