"""The retrieval grid: every config builds and embeds; every shapes one trains and validates;
the protocol (recall ks per benchmark, no model selection on the test split) holds, and a
real-data config trains and tests through tools/train.py and tools/test.py without validation."""
import glob
import json
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
REAL_CONFIGS = [c for c in CONFIGS if '_shapes' not in c]
# Recall@k as each benchmark's literature reports it (docs/retrieval_protocol.md)
LITERATURE_KS = {'cub': (1, 2, 4, 8), 'sop': (1, 10, 100, 1000),
                 'inshop': (1, 10, 20, 30, 40, 50), 'shapes': (1, 2, 4, 8)}
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


def dataset_of(config):
    return os.path.basename(config)[:-3].split('_')[2]


@pytest.mark.parametrize('config', CONFIGS)
def test_recall_ks_are_the_benchmarks_and_the_search_reaches_them(config):
    cfg = Config.fromfile(os.path.join(REPO_ROOT, config))
    ks = LITERATURE_KS[dataset_of(config)]
    assert tuple(cfg.test_evaluator.recall_ks) == ks
    # the model searches as deep as the evaluator's deepest k (RetrievalMetric refuses less)
    assert tuple(cfg.model.recall_ks) == ks
    if cfg.get('val_evaluator'):
        assert tuple(cfg.val_evaluator.recall_ks) == ks


@pytest.mark.parametrize('config', REAL_CONFIGS)
def test_real_configs_select_nothing_on_the_test_split(config):
    """CUB / SOP / In-Shop have no validation split: no validation during training (mmengine
    needs all three None) and no best-checkpoint rule; the last checkpoint is the result."""
    cfg = Config.fromfile(os.path.join(REPO_ROOT, config))
    assert cfg.val_dataloader is None and cfg.val_cfg is None and cfg.val_evaluator is None
    assert cfg.default_hooks.checkpoint.get('save_best') is None
    assert cfg.test_dataloader.dataset.split == ('query' if dataset_of(config) == 'inshop'
                                                 else 'test')


@pytest.mark.parametrize('config', SHAPES_CONFIGS)
def test_shapes_validation_selects_no_checkpoint(config):
    cfg = Config.fromfile(os.path.join(REPO_ROOT, config))
    assert cfg.default_hooks.checkpoint.get('save_best') is None


def test_real_config_trains_and_tests_through_the_tools(tmp_path, monkeypatch):
    """lowformer_b1_sop.py (no validation, Recall@1000) on a tiny generated split, through
    tools/train.py and tools/test.py: mmengine accepts the missing validation, the last
    checkpoint is written, and the test split is evaluated at the SOP ks."""
    from tools.test import main as test_main
    from tools.train import main as train_main
    cfg = Config.fromfile(os.path.join(REPO_ROOT, 'configs/retrieval/lowformer_b1_sop.py'))
    tiny = tiny_retrieval_cfg(os.path.join(REPO_ROOT, SHAPES_CONFIGS[0]),
                              str(tmp_path / 'data'), str(tmp_path / 'work'))
    cfg.train_dataloader = tiny.train_dataloader
    cfg.test_dataloader = tiny.test_dataloader
    cfg.model.prototype = tiny.model.prototype
    cfg.model.head.num_classes = tiny.model.head.num_classes
    cfg.model.image_encoder[0].init_cfg = None  # no ImageNet weights on a test machine
    cfg.train_cfg.max_epochs = 1
    config = str(tmp_path / 'sop_tiny.py')
    cfg.dump(config)
    monkeypatch.chdir(tmp_path)
    assert train_main([config, '--work-dir', str(tmp_path / 'work')]) == 0
    assert os.path.isfile(tmp_path / 'work' / 'epoch_1.pth')
    assert not glob.glob(str(tmp_path / 'work' / 'best_*.pth'))
    out = tmp_path / 'metrics.json'
    assert test_main([config, str(tmp_path / 'work'), '--work-dir', str(tmp_path / 'test'),
                      '--metrics-out', str(out)]) == 0
    metrics = json.loads(out.read_text())
    for k in LITERATURE_KS['sop']:
        assert 0 <= metrics[f'retrieval/Recall@{k}'] <= 1
    # 9 test images: Recall@1000 is Recall@8, every query's other views among them
    assert metrics['retrieval/Recall@1000'] == 1.0
