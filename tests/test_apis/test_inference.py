"""init_model: one entry point for every task's model, through the one checkpoint loader."""
import os.path as osp

import pytest
import torch

from mmlow.apis import init_model
from mmlow.errors import CheckpointError
from tests.conftest import REPO_ROOT

CONFIGS = ['configs/detection/retinanet_lowformer_b1_shapes.py',
           'configs/segmentation/fpn_lowformer_b1_shapes.py',
           'configs/retrieval/lowformer_b1_shapes.py',
           'configs/tracking/lowformer-track_cpu_synthetic.py']


@pytest.mark.parametrize('config', CONFIGS)
def test_every_task_loads_its_checkpoint(config, tmp_path):
    path = osp.join(REPO_ROOT, config)
    torch.manual_seed(1)
    trained = init_model(path)
    for parameter in trained.parameters():  # weights no initialisation would give
        parameter.data.uniform_(-1, 1)
    checkpoint = tmp_path / 'model.pth'
    torch.save(dict(state_dict=trained.state_dict()), checkpoint)

    model = init_model(path, str(checkpoint))
    assert not model.training and model.cfg.filename == path
    for (name, ours), (_, theirs) in zip(model.state_dict().items(),
                                         trained.state_dict().items()):
        assert torch.equal(ours, theirs), name


def test_another_models_checkpoint_is_refused_naming_what_does_not_fit(tmp_path):
    checkpoint = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'fc.weight': torch.zeros(2, 2)}), checkpoint)
    with pytest.raises(CheckpointError, match='fc.weight'):
        init_model(osp.join(REPO_ROOT, CONFIGS[0]), str(checkpoint))
