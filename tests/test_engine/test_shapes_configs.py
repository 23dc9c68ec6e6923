"""Every *_shapes.py config trains a few iterations, validates, and tools/test.py evaluates
the checkpoint with the task's official metric and draws the predictions."""
import glob
import json
import math
import os

import pytest
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from tests.conftest import REPO_ROOT
from tests.tiny_configs import tiny_shapes_cfg
from tools.test import main as run_test_tool

SHAPES_CONFIGS = sorted(
    os.path.relpath(path, REPO_ROOT)
    for path in glob.glob(os.path.join(REPO_ROOT, 'configs', '*', '*_shapes.py'))
    # retrieval configs: tests/test_configs_retrieval.py
    if os.path.basename(os.path.dirname(path)) != 'retrieval')


def test_every_task_has_shapes_configs():
    tasks = {os.path.basename(path).split('_')[0] for path in SHAPES_CONFIGS}
    assert tasks == {'retinanet', 'mask-rcnn', 'fpn'}
    assert len(SHAPES_CONFIGS) == 9  # LowFormer-B1, EfficientViT-M4, EfficientFormer-L1 each


# Not repeated here: the demo config trains, resumes and tests in test_retinanet_shapes.py; the
# Mask R-CNN heads train here under LowFormer-B1, and the EfficientViT-M4 / EfficientFormer-L1
# backbones under RetinaNet and Semantic FPN (the suite's time goes to what is not yet covered)
COVERED_ELSEWHERE = ('retinanet_lowformer_b1_shapes.py', 'mask-rcnn_efficientvit_m4_shapes.py',
                     'mask-rcnn_efficientformer_l1_shapes.py')


@pytest.mark.parametrize('config', [c for c in SHAPES_CONFIGS
                                    if not c.endswith(COVERED_ELSEWHERE)])
def test_shapes_config_trains_and_validates(config, tmp_path):
    cfg = tiny_shapes_cfg(os.path.join(REPO_ROOT, config), str(tmp_path / 'shapes'),
                          str(tmp_path / 'work'), iterations=2)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        runner = Runner.from_cfg(cfg)
        runner.train()
    scalars = runner.message_hub.log_scalars
    assert runner.iter == 2
    assert math.isfinite(scalars['train/loss'].current())
    metrics = ['mIoU'] if os.path.basename(config).startswith('fpn_') else ['coco/bbox_mAP']
    if 'mask-rcnn' in config:
        metrics.append('coco/segm_mAP')
    assert all(f'val/{metric}' in scalars for metric in metrics), sorted(scalars)

    config_file = str(tmp_path / 'tiny.py')
    cfg.dump(config_file)
    show_dir = tmp_path / 'shown'
    metrics_file = tmp_path / 'metrics.json'
    assert run_test_tool([config_file, cfg.work_dir, '--work-dir', str(tmp_path / 'test'),
                          '--show-dir', str(show_dir), '--metrics-out', str(metrics_file)]) == 0
    assert set(metrics) <= set(json.loads(metrics_file.read_text()))
    drawn = glob.glob(str(show_dir / '**' / '*.png'), recursive=True)
    assert len(drawn) == cfg.test_dataloader.dataset.generator['num_val']
