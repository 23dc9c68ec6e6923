import pytest
import torch
from mmengine.registry import DefaultScope

from mmlow.reports.model_table import PAPER
from mmlow.models import EfficientViTMSRA
from mmlow.models.backbones.efficientvit import EfficientViTBlock
from mmlow.models.layers import switch_to_deploy
from tests.conftest import timm_pair

ARCHS = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5']

pytestmark = pytest.mark.usefixtures('single_thread')


def timm_and_mmlow(arch: str, seed: int = 0):
    reference, classifier = timm_pair(f'efficientvit_{arch}', seed)
    return reference, classifier.backbone


def assert_features_match(reference, backbone, x, atol=1e-5):
    with torch.no_grad():
        expected = reference.forward_intermediates(x, intermediates_only=True)
        got = backbone(x)
    assert len(got) == len(expected) == 3
    for e, g in zip(expected, got):
        assert e.shape == g.shape
        assert torch.isfinite(g).all()
        assert (e - g).abs().max().item() <= atol
    return got


def test_arch_table_covers_every_variant():
    assert sorted(EfficientViTMSRA.arch_zoo) == ARCHS


@pytest.mark.parametrize('arch', ARCHS)
def test_features_match_timm(arch):
    reference, backbone = timm_and_mmlow(arch)
    got = assert_features_match(reference, backbone, torch.randn(2, 3, 224, 224))
    assert [tuple(t.shape[-2:]) for t in got] == [(14, 14), (7, 7), (4, 4)]
    assert [t.shape[1] for t in got] == list(backbone.out_channels)


@pytest.mark.parametrize('arch', ARCHS)
def test_classifier_params_and_logits_match(arch):
    reference, classifier = timm_pair(f'efficientvit_{arch}', seed=1)
    classifier.backbone.out_indices = (2, )
    params = sum(p.numel() for p in classifier.parameters())
    assert params == sum(p.numel() for p in reference.parameters())
    # the README rounds (m5: 12.47M is listed as 12.4M)
    assert params / 1e6 == pytest.approx(PAPER['efficientvit'][arch]['params_m'], abs=0.08)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert (reference(x) - classifier(x, mode='tensor')).abs().max().item() <= 1e-5


@pytest.mark.parametrize('size,out_sizes', [
    ((513, 769), [(33, 49), (17, 25), (9, 13)]),  # windows padded in every stage
    ((64, 96), [(4, 6), (2, 3), (1, 2)]),  # every map smaller than its window
])
def test_any_input_size_matches_timm(size, out_sizes):
    reference, backbone = timm_and_mmlow('m0', seed=2)
    got = assert_features_match(reference, backbone, torch.randn(1, 3, *size))
    assert [tuple(t.shape[-2:]) for t in got] == out_sizes


def test_fresh_sandwich_block_starts_as_identity():
    # residual branches end in zero-initialised BN, as in the reference (trains from scratch)
    block = EfficientViTBlock(64, key_dim=16, num_heads=4, window_size=7,
                              kernels=(5, 5, 5, 5)).eval()
    x = torch.randn(1, 64, 9, 11)
    with torch.no_grad():
        assert torch.equal(block(x), x)


def test_custom_arch_heads_must_split_the_width():
    with pytest.raises(ValueError, match='split evenly'):
        EfficientViTMSRA(arch=dict(widths=(64, 128, 190), depths=(1, 1, 1),
                                   num_heads=(4, 4, 4), kernels=(5, 5, 5, 5)))


def test_norm_eval_leaves_attention_training():
    backbone = EfficientViTMSRA(arch='m0', norm_eval=True).train()
    assert backbone.stages[2].blocks[0].attn.training


def test_drop_path_rises_over_the_sandwich_blocks():
    backbone = EfficientViTMSRA(arch='m0', drop_path_rate=0.3)
    blocks = [block for stage in backbone.stages for block in stage.blocks]
    assert isinstance(blocks[0].drop_path, torch.nn.Identity)
    assert blocks[-1].drop_path.drop_prob == pytest.approx(0.3)


@pytest.mark.parametrize('arch', ['m1', 'm4'])
def test_deploy_mode_fuses_every_bn_and_keeps_outputs(arch):
    _, classifier = timm_pair(f'efficientvit_{arch}', seed=3)
    classifier.backbone.out_indices = (2, )
    x = torch.randn(2, 3, 97, 131)
    with torch.no_grad():
        expected_feats, expected_logits = classifier.backbone(x), classifier(x, mode='tensor')
        switch_to_deploy(classifier)
        got_feats, got_logits = classifier.backbone(x), classifier(x, mode='tensor')
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                   for m in classifier.modules())
    assert (expected_logits - got_logits).abs().max().item() <= 1e-4
    assert (expected_feats[-1] - got_feats[-1]).abs().max().item() <= 1e-4
    with pytest.raises(RuntimeError, match='deploy'):
        classifier.backbone.train()


def test_builds_from_mmdet_scope():
    from mmdet.registry import MODELS
    from mmpretrain.registry import MODELS as CLS_MODELS
    with DefaultScope.overwrite_default_scope('mmdet'):
        backbone = MODELS.build(dict(type='EfficientViTMSRA', arch='m0',
                                     out_indices=(1, 2))).eval()
    assert type(backbone).__name__ == 'EfficientViTMSRA'
    assert len(backbone(torch.randn(1, 3, 64, 64))) == 2
    assert CLS_MODELS.get('EfficientViTClsHead').__name__ == 'EfficientViTClsHead'
