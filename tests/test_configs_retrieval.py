"""The retrieval grid: every config builds and embeds; every shapes one trains and validates."""
import glob
import math
import os

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from tests.conftest import REPO_ROOT
from tests.tiny_configs import tiny_retrieval_cfg

CONFIGS = sorted(os.path.relpath(path, REPO_ROOT)
                 for path in glob.glob(os.path.join(REPO_ROOT, 'configs', 'retrieval', '*.py')))
SHAPES_CONFIGS = [c for c in CONFIGS if '_shapes' in c]
BACKBONES = {'lowformer_b1': 'LowFormer', 'efficientvit_m4': 'EfficientViTMSRA',
             'efficientformer_l1': 'EfficientFormer'}


def test_grid_is_complete():
    for backbone in BACKBONES:
        for dataset in ('cub', 'sop', 'inshop', 'shapes'):
            assert f'configs/retrieval/{backbone}_{dataset}.py' in CONFIGS


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds_embeds_and_computes_a_loss(config):
    cfg = Config.fromfile(os.path.join(REPO_ROOT, config))
    backbone = cfg.model.image_encoder[0]
    backbone.init_cfg = None  # no ImageNet weights on a test machine
    name = os.path.basename(config)
    assert backbone.type.split('.')[-1] == BACKBONES['_'.join(name.split('_')[:2])]
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    assert type(model.image_encoder[0]).__module__.startswith('mmlow.')
    inputs = torch.randn(2, 3, 64, 64)
    embeddings = model.embed(inputs)
    assert embeddings.shape == (2, cfg.embedding_dim)
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(2))
    samples = [DataSample().set_gt_label(label) for label in (0, cfg.model.head.num_classes - 1)]
    loss = model(inputs, samples, mode='loss')['loss']
    assert math.isfinite(float(loss))


@pytest.mark.parametrize('config', SHAPES_CONFIGS)
def test_shapes_config_trains_and_validates(config, tmp_path):
    cfg = tiny_retrieval_cfg(os.path.join(REPO_ROOT, config), str(tmp_path / 'data'),
                             str(tmp_path / 'work'))
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = runner.message_hub.log_scalars
    assert math.isfinite(scalars['train/loss'].current())
    for name in ('Recall@1', 'Recall@8', 'MAP@R', 'R-Precision', 'mAP@10'):
        assert 0 <= scalars[f'val/retrieval/{name}'].current() <= 1
