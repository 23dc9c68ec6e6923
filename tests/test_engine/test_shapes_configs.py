"""Every *_shapes.py config trains a few iterations and validates on generated images."""
import glob
import math
import os

import pytest
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from tests.conftest import REPO_ROOT
from tests.tiny_configs import tiny_shapes_cfg

SHAPES_CONFIGS = sorted(
    os.path.relpath(path, REPO_ROOT)
    for path in glob.glob(os.path.join(REPO_ROOT, 'configs', '*', '*_shapes.py')))


def test_every_task_has_shapes_configs():
    tasks = {os.path.basename(path).split('_')[0] for path in SHAPES_CONFIGS}
    assert tasks == {'retinanet', 'mask-rcnn', 'fpn'}
    assert len(SHAPES_CONFIGS) == 9  # LowFormer-B1, EfficientViT-M4, EfficientFormer-L1 each


@pytest.mark.parametrize('config', SHAPES_CONFIGS)
def test_shapes_config_trains_and_validates(config, tmp_path):
    cfg = tiny_shapes_cfg(os.path.join(REPO_ROOT, config), str(tmp_path / 'shapes'),
                          str(tmp_path / 'work'), iterations=2)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        runner = Runner.from_cfg(cfg)
        runner.train()
    scalars = runner.message_hub.log_scalars
    assert runner.iter == 2
    assert math.isfinite(scalars['train/loss'].current())
    metric = 'val/mIoU' if 'fpn_' in os.path.basename(config) else 'val/coco/bbox_mAP'
    assert metric in scalars, sorted(scalars)
    if 'mask-rcnn' in config:
        assert 'val/coco/segm_mAP' in scalars
