"""Behaviour every mmlow backbone shares through StagedBackbone, tested once for every family
and every variant of its arch table."""
import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmlow import converters
from mmlow.models.backbones import FAMILIES as FAMILY_TABLE
from mmlow.models.weights import WeightsMismatchError
from mmlow.registry import CHECKPOINT_READERS
from tests.conftest import randomize_

BACKBONES = list(FAMILY_TABLE.values())
VARIANTS = [pytest.param(cls, arch, id=f'{cls.family}_{arch}')
            for cls in BACKBONES for arch in cls.arch_zoo]
FAMILIES = [pytest.param(cls, id=cls.family) for cls in BACKBONES]

pytestmark = pytest.mark.usefixtures('single_thread')


def smallest_two(cls):
    return sorted(cls.arch_zoo, key=lambda arch: sum(cls.resolve_arch(arch)['depths']))[:2]


def norms(module):
    return [m for m in module.modules() if isinstance(m, _BatchNorm)]


@pytest.mark.parametrize('cls', FAMILIES)
def test_unknown_arch_is_a_clear_error(cls):
    with pytest.raises(ValueError, match=f"unknown {cls.__name__} arch 'x9'; choose one of"):
        cls(arch='x9')
    with pytest.raises(ValueError, match=f'a custom {cls.__name__} arch needs keys'):
        cls(arch=dict(widths=(8, 16, 32, 64)))


@pytest.mark.parametrize('cls', FAMILIES)
def test_arch_names_normalise(cls):
    arch = next(iter(cls.arch_zoo))
    assert cls.resolve_arch(f'{cls.family}_{arch}'.upper()) == cls.resolve_arch(arch)


@pytest.mark.parametrize('cls,arch', VARIANTS)
def test_out_indices_select_stages(cls, arch):
    backbone = cls(arch=arch, out_indices=(0, -1)).eval()
    num_stages = len(backbone.stages)
    assert backbone.out_indices == (0, num_stages - 1)
    with torch.no_grad():
        outs = backbone(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [backbone.out_channels[0], backbone.out_channels[-1]]
    assert outs[0].shape[-1] == 2 ** (num_stages - 1) * outs[1].shape[-1]
    with pytest.raises(ValueError, match='out_indices'):
        cls(arch=arch, out_indices=(num_stages, ))


@pytest.mark.parametrize('cls,arch', VARIANTS)
def test_norm_eval_keeps_bn_in_eval_mode(cls, arch):
    assert all(not m.training for m in norms(cls(arch=arch, norm_eval=True).train()))
    assert all(m.training for m in norms(cls(arch=arch).train()))


@pytest.mark.parametrize('cls,arch', VARIANTS)
@pytest.mark.parametrize('frozen_stages', [0, 2])
def test_frozen_stages_stay_frozen(cls, arch, frozen_stages):
    backbone = cls(arch=arch, frozen_stages=frozen_stages).train()
    frozen = [backbone.stem, *backbone.stages[:frozen_stages]]
    for module in frozen:
        assert not module.training
        assert all(not p.requires_grad for p in module.parameters())
    for module in backbone.stages[frozen_stages:]:
        assert module.training
        assert all(p.requires_grad for p in module.parameters())
    # a training step must leave frozen BN statistics untouched
    before = [m.running_mean.clone() for m in norms(torch.nn.ModuleList(frozen))]
    backbone(torch.randn(2, 3, 64, 64))
    after = [m.running_mean for m in norms(torch.nn.ModuleList(frozen))]
    assert before and all(torch.equal(b, a) for b, a in zip(before, after))


@pytest.mark.parametrize('cls,arch', VARIANTS)
def test_deploy_folds_every_bn_and_keeps_outputs(cls, arch):
    backbone = randomize_(cls(arch=arch), 2).eval()
    x = torch.randn(1, 3, 96, 80)  # not the pretraining size: resized attention biases too
    with torch.no_grad():
        expected = backbone(x)
        backbone.switch_to_deploy()
        got = backbone(x)
    assert backbone.deploy and not norms(backbone)
    for e, g in zip(expected, got):
        assert (e - g).abs().max().item() <= 1e-4 * max(1., e.abs().max().item())
    with pytest.raises(RuntimeError, match='deploy'):
        backbone.train()
    built_folded = cls(arch=arch, deploy=True)
    assert built_folded.deploy and not norms(built_folded)
    assert built_folded.state_dict().keys() == backbone.state_dict().keys()
    with pytest.raises(RuntimeError, match='eval'):
        cls(arch=arch).train().switch_to_deploy()


@pytest.mark.parametrize('cls', FAMILIES)
def test_deploy_with_pretrained_loads_then_folds(cls, tmp_path):
    arch, other_arch = smallest_two(cls)
    source = randomize_(cls(arch=arch), 3).eval()
    path = str(tmp_path / 'backbone.pth')
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in source.state_dict().items()}},
               path)
    pretrained = dict(type='Pretrained', checkpoint=path)
    backbone = cls(arch=arch, deploy=True, init_cfg=pretrained)
    assert not backbone.deploy  # BN stays until the weights are in
    backbone.init_weights()
    assert backbone.deploy and not norms(backbone)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for e, g in zip(source(x), backbone(x)):
            assert (e - g).abs().max().item() <= 1e-4 * max(1., e.abs().max().item())
    with pytest.raises(WeightsMismatchError, match='another architecture'):
        cls(arch=other_arch, init_cfg=pretrained).init_weights()


def test_the_family_table_is_the_one_every_part_reads():
    """Classifiers, checkpoint detection and the checkpoint readers cover exactly the
    families of mmlow.models.backbones.FAMILIES."""
    from mmlow.checkpoint import _variant_shapes
    from mmlow.models.classifiers import BACKBONES as CLASSIFIER_FAMILIES
    assert CLASSIFIER_FAMILIES is FAMILY_TABLE
    assert set(converters.FAMILIES) == set(FAMILY_TABLE) <= set(CHECKPOINT_READERS)
    assert set(_variant_shapes()) == {f'{family}_{arch}' for family, cls in FAMILY_TABLE.items()
                                      for arch in cls.arch_zoo}
