import pytest
import torch

from mmlow.reports.model_table import PAPER
from mmlow.models import LowFormer
from tests.conftest import timm_pair

ARCHS = ['b0', 'b1', 'b15', 'b2', 'b3', 'e1', 'e2', 'e3']


def test_arch_table_covers_every_variant():
    assert sorted(LowFormer.arch_zoo) == sorted(ARCHS)


@pytest.mark.parametrize('arch', ARCHS)
def test_features_match_timm(arch):
    reference, classifier = timm_pair(f'lowformer_{arch}')
    x = torch.randn(2, 3, 65, 97)  # odd sizes: the attention's crop must line up
    with torch.no_grad():
        expected = reference.forward_intermediates(x, intermediates_only=True)
        got = classifier.backbone(x)
    assert len(got) == 4
    for e, g in zip(expected, got):
        assert e.shape == g.shape
        assert (e - g).abs().max().item() <= 1e-5


@pytest.mark.parametrize('arch', ARCHS)
def test_classifier_params_and_logits_match(arch):
    reference, classifier = timm_pair(f'lowformer_{arch}', seed=1)
    classifier.backbone.out_indices = (3, )
    params = sum(p.numel() for p in classifier.parameters())
    assert params == sum(p.numel() for p in reference.parameters())
    paper_params = PAPER['lowformer'][arch]['params_m']
    assert round(params / 1e6, 2) == pytest.approx(paper_params, abs=0.006)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert (reference(x) - classifier(x, mode='tensor')).abs().max().item() <= 1e-5


def test_large_odd_input_matches_timm():
    reference, classifier = timm_pair('lowformer_b1')
    x = torch.randn(1, 3, 513, 769)
    with torch.no_grad():
        expected = reference.forward_intermediates(x, intermediates_only=True)
        got = classifier.backbone(x)
    assert [tuple(t.shape[-2:]) for t in got] == [(129, 193), (65, 97), (33, 49), (17, 25)]
    for e, g in zip(expected, got):
        assert (e - g).abs().max().item() <= 1e-5


@pytest.mark.parametrize('arch', ['b1', 'e2', 'e3'])
def test_deploy_mode_keeps_timm_outputs(arch):
    reference, classifier = timm_pair(f'lowformer_{arch}', seed=2)
    backbone = classifier.backbone
    x = torch.randn(1, 3, 71, 53)
    with torch.no_grad():
        expected = reference.forward_intermediates(x, intermediates_only=True)
        had_stride1_deconv = bool(stride1_deconvs(backbone))
        backbone.switch_to_deploy()
        got = backbone(x)
    for e, g in zip(expected, got):
        assert (e - g).abs().max().item() <= 1e-4
    # the slow CPU path of stride-1 transposed convs is replaced by the equivalent conv
    assert not stride1_deconvs(backbone)
    assert had_stride1_deconv or arch != 'b1'


def stride1_deconvs(module):
    return [m for m in module.modules()
            if isinstance(m, torch.nn.ConvTranspose2d) and m.stride == (1, 1)]


def test_norm_eval_leaves_other_layers_training():
    backbone = LowFormer(arch='b0', norm_eval=True).train()
    assert backbone.stages[3][1].mlp.fc1.training


def test_arch_names_normalise():
    assert LowFormer.resolve_arch('LowFormer_B1.5') == LowFormer.resolve_arch('b15')
