"""A forward that cannot fit in memory is refused before it starts, naming input and need."""
import os

import pytest

from mmlow.analysis import memory
from mmlow.analysis.memory import MemoryLimitError, check_forward_fits
from mmlow.models.backbones import EfficientFormer
from tests.conftest import REPO_ROOT
from tests.tiny_configs import tiny_shapes_cfg, untrained_checkpoint
from tools.test import main as run_test_tool

GIB = 1024**3


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
    config_path = os.path.join(REPO_ROOT, 'configs/detection/retinanet_lowformer_b1_shapes.py')
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
    assert 'error: LowFormer on an input of (1, 3, 1024, 1024) needs at least' in err
    assert 'Traceback' not in err
