import pytest
import timm
import torch

from mmlow.converters import (CheckpointError, build_classifier, convert_state_dict,
                              load_strict)
from mmlow.models import LowFormer
from mmlow.models.backbones.lowformer import ARCH_SETTINGS
from tests.conftest import randomize_

ARCHS = ['b0', 'b1', 'b15', 'b2', 'b3', 'e1', 'e2', 'e3']
# Params of the classification model (millions), ../shared/REFERENCE.md (timm's count).
REFERENCE_PARAMS_M = dict(b0=14.10, b1=17.94, b15=33.98, b2=44.99, b3=57.09, e1=18.90,
                          e2=22.75, e3=41.32)


def timm_and_mmlow(arch: str, seed: int = 0):
    reference = randomize_(timm.create_model(f'lowformer_{arch}'), seed).eval()
    state_dict, layout = convert_state_dict(reference.state_dict(), 'lowformer')
    assert layout == 'timm'
    backbone = LowFormer(arch=arch).eval()
    load_strict(backbone, {k[len('backbone.'):]: v for k, v in state_dict.items()
                           if k.startswith('backbone.')}, 'timm weights')
    return reference, backbone


def test_arch_table_covers_every_variant():
    assert sorted(ARCH_SETTINGS) == sorted(ARCHS)


@pytest.mark.parametrize('arch', ARCHS)
def test_features_match_timm(arch):
    reference, backbone = timm_and_mmlow(arch)
    x = torch.randn(2, 3, 65, 97)  # odd sizes: the attention's crop must line up
    with torch.no_grad():
        expected = reference.forward_intermediates(x, intermediates_only=True)
        got = backbone(x)
    assert len(got) == 4
    for e, g in zip(expected, got):
        assert e.shape == g.shape
        assert (e - g).abs().max().item() <= 1e-5


@pytest.mark.parametrize('arch', ARCHS)
def test_classifier_params_and_logits_match(arch):
    reference, _ = timm_and_mmlow(arch, seed=1)
    classifier = build_classifier(f'lowformer_{arch}').eval()
    state_dict, _ = convert_state_dict(reference.state_dict(), 'lowformer')
    load_strict(classifier, state_dict, 'timm weights')
    params = sum(p.numel() for p in classifier.parameters())
    assert params == sum(p.numel() for p in reference.parameters())
    assert round(params / 1e6, 2) == pytest.approx(REFERENCE_PARAMS_M[arch], abs=0.006)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert (reference(x) - classifier(x, mode='tensor')).abs().max().item() <= 1e-5


def test_large_odd_input_matches_timm():
    reference, backbone = timm_and_mmlow('b1')
    x = torch.randn(1, 3, 513, 769)
    with torch.no_grad():
        expected = reference.forward_intermediates(x, intermediates_only=True)
        got = backbone(x)
    assert [tuple(t.shape[-2:]) for t in got] == [(129, 193), (65, 97), (33, 49), (17, 25)]
    for e, g in zip(expected, got):
        assert (e - g).abs().max().item() <= 1e-5


def test_out_indices_select_stages():
    backbone = LowFormer(arch='b0', out_indices=(1, -1)).eval()
    with torch.no_grad():
        outs = backbone(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [64, 256]
    assert [o.shape[-1] for o in outs] == [8, 2]
    with pytest.raises(ValueError, match='out_indices'):
        LowFormer(arch='b0', out_indices=(4, ))


def test_unknown_arch_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown LowFormer arch 'b9'"):
        LowFormer(arch='b9')


def test_norm_eval_keeps_bn_in_eval_mode():
    backbone = LowFormer(arch='b0', norm_eval=True).train()
    norms = [m for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(not m.training for m in norms)
    assert backbone.stages[3][1].mlp.fc1.training
    assert all(m.training for m in LowFormer(arch='b0').train().modules()
               if isinstance(m, torch.nn.BatchNorm2d))


@pytest.mark.parametrize('arch', ['b1', 'e2', 'e3'])
def test_deploy_mode_fuses_bn_and_keeps_outputs(arch):
    _, backbone = timm_and_mmlow(arch, seed=2)
    x = torch.randn(1, 3, 71, 53)
    with torch.no_grad():
        expected = backbone(x)
        backbone.switch_to_deploy()
        got = backbone(x)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in backbone.modules())
    for e, g in zip(expected, got):
        assert (e - g).abs().max().item() <= 1e-4
    with pytest.raises(RuntimeError, match='deploy'):
        backbone.train()


def test_deploy_requires_eval_mode():
    with pytest.raises(RuntimeError, match='eval'):
        LowFormer(arch='b0').train().switch_to_deploy()


def test_pretrained_init_cfg_loads_and_rejects_other_arch(tmp_path):
    reference = randomize_(timm.create_model('lowformer_b0'), 3).eval()
    path = tmp_path / 'timm_b0.pth'
    torch.save(reference.state_dict(), path)
    backbone = LowFormer(arch='b0', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    backbone.init_weights()
    backbone.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = reference.forward_intermediates(x, intermediates_only=True)[-1]
        assert torch.allclose(backbone(x)[-1], expected, atol=1e-5)
    wrong = LowFormer(arch='b1', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointError, match='another architecture'):
        wrong.init_weights()
