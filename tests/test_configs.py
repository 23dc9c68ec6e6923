"""Every config builds its model and runs its task's forward on a small input."""
import glob
import os

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmlow.models.wiring import check_neck_fits_backbone
from tests.conftest import REPO_ROOT

# tracking configs build and run in tests/test_models/test_tracking.py
CONFIGS = sorted(
    os.path.relpath(path, REPO_ROOT)
    for path in glob.glob(os.path.join(REPO_ROOT, 'configs', '[!_]*', '*.py'))
    # tracking and retrieval configs have their own tests (test_configs_retrieval.py)
    if os.path.basename(os.path.dirname(path)) not in ('tracking', 'retrieval'))
HEIGHT, WIDTH = 128, 160
BACKBONES = ('lowformer_b0', 'lowformer_b1', 'lowformer_b15', 'lowformer_b3', 'lowformer_e1',
             'lowformer_e2', 'lowformer_e3') + tuple(
                 f'efficientvit_m{i}' for i in range(6)) + tuple(
                     f'efficientformer_{a}' for a in ('l1', 'l3', 'l7')) + tuple(
                         f'efficientformerv2_{a}' for a in ('s0', 's1', 's2', 'l'))


@pytest.mark.parametrize('pattern', [
    'detection/retinanet_{}_fpn_1x_coco.py', 'detection/mask-rcnn_{}_fpn_1x_coco.py',
    'segmentation/fpn_{}_512x512_40k_ade20k.py'
])
def test_grid_is_complete(pattern):
    missing = [b for b in BACKBONES if os.path.join('configs', pattern.format(b)) not in CONFIGS]
    assert not missing


def _level_sizes(features):
    return [tuple(f.shape[-2:]) for f in features]


def _strides(*strides):
    return [(-(-HEIGHT // s), -(-WIDTH // s)) for s in strides]


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds_and_runs(config):
    cfg = Config.fromfile(os.path.join(REPO_ROOT, config))
    scope = cfg.default_scope
    registry = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS
    cfg.model.backbone.init_cfg = None  # no ImageNet weights on a test machine
    inputs = torch.randn(1, 3, HEIGHT, WIDTH)
    with DefaultScope.overwrite_default_scope(scope), torch.no_grad():
        model = registry.build(cfg.model).eval()
        check_neck_fits_backbone(model)  # no false alarm on any config
        if scope == 'mmseg':
            logits = model(inputs, mode='tensor')
            assert logits.shape == (1, cfg.model.decode_head.num_classes, HEIGHT // 4,
                                    WIDTH // 4)
            return
        from mmdet.structures import DetDataSample
        features = model.extract_feat(inputs)
        sample = DetDataSample(metainfo=dict(
            img_shape=(HEIGHT, WIDTH), ori_shape=(HEIGHT, WIDTH), pad_shape=(HEIGHT, WIDTH),
            batch_input_shape=(HEIGHT, WIDTH), scale_factor=(1., 1.)))
        (result, ) = model(inputs, [sample], mode='predict')
    if 'roi_head' in cfg.model:  # Mask R-CNN: the stride 4..64 pyramid of its anchors
        assert _level_sizes(features) == _strides(4, 8, 16, 32, 64)
        assert 'masks' in result.pred_instances
    else:  # RetinaNet: strides 8..128
        assert _level_sizes(features) == _strides(8, 16, 32, 64, 128)
    assert result.pred_instances.bboxes.shape[-1] == 4
