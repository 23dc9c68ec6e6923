"""Every config builds its model and gives the pyramid / logits its task expects."""
import glob
import os

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from tests.conftest import REPO_ROOT

CONFIGS = sorted(
    os.path.relpath(path, REPO_ROOT)
    for path in glob.glob(os.path.join(REPO_ROOT, 'configs', '[!_]*', '*.py')))


def test_configs_found():
    assert len(CONFIGS) >= 7


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds_and_runs(config):
    cfg = Config.fromfile(os.path.join(REPO_ROOT, config))
    scope = cfg.default_scope
    registry = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS
    cfg.model.backbone.init_cfg = None  # no ImageNet weights on a test machine
    with DefaultScope.overwrite_default_scope(scope):
        model = registry.build(cfg.model).eval()
        with torch.no_grad():
            out = model(torch.randn(1, 3, 128, 160), mode='tensor')
    if scope == 'mmdet':
        cls_scores = out[0]
        # RetinaNet's five levels at strides 8..128
        assert [tuple(s.shape[-2:]) for s in cls_scores] == [(16, 20), (8, 10), (4, 5), (2, 3),
                                                             (1, 2)]
    else:
        assert out.shape == (1, cfg.model.decode_head.num_classes, 32, 40)
