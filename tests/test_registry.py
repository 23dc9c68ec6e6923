import pytest
import torch
from mmengine.registry import DefaultScope


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg', 'mmpretrain'])
def test_backbone_builds_from_every_scope(scope):
    registry_module = __import__(f'{scope}.registry', fromlist=['MODELS'])
    with DefaultScope.overwrite_default_scope(scope):
        backbone = registry_module.MODELS.build(dict(type='LowFormer', arch='b0')).eval()
    assert type(backbone).__name__ == 'LowFormer'
    assert len(backbone(torch.randn(1, 3, 32, 32))) == 4


def test_dataset_and_head_found_from_task_scopes():
    from mmdet.registry import DATASETS
    from mmpretrain.registry import MODELS
    assert DATASETS.get('ShapesDataset').__name__ == 'ShapesDataset'
    assert MODELS.get('LowFormerClsHead').__name__ == 'LowFormerClsHead'


def test_configs_need_no_manual_imports(repo_root):
    from mmengine.config import Config
    cfg = Config.fromfile(f'{repo_root}/configs/detection/retinanet_lowformer_b1_coco.py')
    assert cfg.custom_imports['imports'] == ['mmlow']
    assert cfg.default_scope == 'mmdet'
