"""A forward or a training step that cannot fit in memory is refused before it starts, naming
input, need and what is free; every tool that runs a model at a chosen size checks first."""
import os

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmlow.analysis import memory
from mmlow.analysis.memory import (MemoryLimitError, check_forward_fits,
                                   forward_memory_lower_bound, training_memory_lower_bound)
from mmlow.models.backbones import EfficientFormer
from mmlow.registry import MODELS
from tests.conftest import REPO_ROOT
from tests.tiny_configs import tiny_shapes_cfg, untrained_checkpoint
from tools.benchmark import main as run_benchmark_tool
from tools.test import main as run_test_tool
from tools.train import main as run_train_tool

GIB = 1024**3
RETINANET = os.path.join(REPO_ROOT, 'configs/detection/retinanet_lowformer_b1_shapes.py')


def _retinanet():
    cfg = Config.fromfile(RETINANET)
    cfg.model.backbone.init_cfg = None
    init_default_scope('mmdet')
    return MODELS.build(cfg.model)


def test_efficientformer_l1_at_4000_does_not_fit_16_gib(monkeypatch):
    monkeypatch.setattr(memory, 'available_memory', lambda device: 16 * GIB)
    backbone = EfficientFormer(arch='l1')
    # the last stage's attention alone: 8 heads over (4000 / 32)^2 tokens, float32
    attention_matrix = 8 * (4000 // 32)**4 * 4
    with pytest.raises(MemoryLimitError, match=r'\(1, 3, 4000, 4000\) needs at least') as exc:
        check_forward_fits(backbone, (1, 3, 4000, 4000))
    assert '16.0 GiB available' in str(exc.value)
    needed, _ = memory.forward_memory_lower_bound(backbone, (1, 3, 4000, 4000))
    assert needed >= 2 * attention_matrix  # softmax holds its input and output
    assert check_forward_fits(backbone, (1, 3, 224, 224)) < 0.1 * GIB


def test_test_tool_stops_before_a_forward_that_cannot_fit(tmp_path, monkeypatch, capsys):
    config_path = RETINANET
    cfg = tiny_shapes_cfg(config_path, str(tmp_path / 'shapes'), str(tmp_path / 'work'),
                          num_train=2, num_val=1)
    for transform in cfg.test_dataloader.dataset.pipeline:
        if transform.type == 'Resize':
            transform.scale = (1024, 1024)
    config = str(tmp_path / 'big.py')
    cfg.dump(config)
    checkpoint = untrained_checkpoint(config_path, tmp_path / 'model.pth')
    monkeypatch.setattr(memory, 'available_memory', lambda device: 1024**2)
    assert run_test_tool([config, checkpoint]) == 2
    err = capsys.readouterr().err
    assert 'error: RetinaNet on an input of (1, 3, 1024, 1024) needs at least' in err
    assert 'Traceback' not in err


def test_a_retinanet_training_step_at_4000_needs_more_than_this_machine_has():
    model = _retinanet()
    parameters = sum(p.numel() * p.element_size() for p in model.parameters())
    small = training_memory_lower_bound(model, (1, 3, 256, 256))
    large = training_memory_lower_bound(model, (1, 3, 4000, 4000))
    assert large > 32 * GIB  # the 24 GiB machine of issue 24 swapped, then killed it
    # activations grow with the pixels: 244x the pixels, over 100x the activations
    assert (large - parameters) > 100 * (small - parameters)
    # Adam(W) keeps two tensors per parameter
    with_adam = training_memory_lower_bound(model, (1, 3, 256, 256), optimizer_states=2)
    assert with_adam - small == 2 * parameters
    # a training step keeps what inference frees: far more than the largest single operation
    assert large > 4 * forward_memory_lower_bound(model, (1, 3, 4000, 4000))[0]


def test_train_tool_refuses_a_step_whose_activations_cannot_fit(tmp_path, monkeypatch, capsys):
    cfg = tiny_shapes_cfg(RETINANET, str(tmp_path / 'shapes'), str(tmp_path / 'work'),
                          num_train=2, num_val=1, image_size=(256, 256))
    config = str(tmp_path / 'tiny.py')
    cfg.dump(config)
    model = _retinanet()
    forward = forward_memory_lower_bound(model, (2, 3, 256, 256))[0]
    training = training_memory_lower_bound(model, (2, 3, 256, 256), optimizer_states=1)
    assert training > 2 * forward
    # enough for inference and for the backbone alone (the old guard let it through)
    monkeypatch.setattr(memory, 'available_memory', lambda device: (forward + training) // 2)
    assert run_train_tool([config]) == 2
    err = capsys.readouterr().err
    assert 'error: a training step of RetinaNet on an input of (2, 3, 256, 256) needs at ' \
        'least' in err
    assert 'activations kept for the backward pass' in err and 'batch size' in err
    assert not os.path.exists(tmp_path / 'work' / 'epoch_1.pth')


@pytest.mark.parametrize('backbone_only', [True, False])
def test_benchmark_tool_refuses_a_size_that_cannot_fit(monkeypatch, capsys, backbone_only):
    config = os.path.join(REPO_ROOT, 'configs/detection/retinanet_efficientformer_l1_shapes.py')
    monkeypatch.setattr(memory, 'available_memory', lambda device: 16 * GIB)
    args = [config, '--backend', 'cpu', '--shape', '4000', '4000', '--iters', '1',
            '--warmup', '0'] + (['--backbone-only'] if backbone_only else [])
    assert run_benchmark_tool(args) == 2
    err = capsys.readouterr().err
    assert 'on an input of (1, 3, 4000, 4000) needs at least' in err
    assert '16.0 GiB available' in err and 'Traceback' not in err
