import math

import pytest
import timm
import torch

from mmlow.models import EfficientFormer, EfficientFormerV2
from mmlow.models.classifiers import build_classifier
from mmlow.models.layers import (RelativePositionBias, relative_offset_index,
                                 resize_offset_bias_table)
from tests.conftest import randomize_, timm_pair

V1_ARCHS = ['l1', 'l3', 'l7']
V2_ARCHS = ['s0', 's1', 's2', 'l']
FAMILY_OF = {**{arch: 'efficientformer' for arch in V1_ARCHS},
             **{arch: 'efficientformerv2' for arch in V2_ARCHS}}
BACKBONE_OF = {'efficientformer': EfficientFormer, 'efficientformerv2': EfficientFormerV2}
# Params of the classification model (millions), timm's count (heads included)
REFERENCE_PARAMS_M = dict(l1=12.29, l3=31.41, l7=82.23, s0=3.60, s1=6.19, s2=12.71, l=26.32)


def test_arch_tables_cover_every_variant():
    assert sorted(EfficientFormer.arch_zoo) == sorted(V1_ARCHS)
    assert sorted(EfficientFormerV2.arch_zoo) == sorted(V2_ARCHS)


@pytest.mark.parametrize('arch', V1_ARCHS + V2_ARCHS)
def test_features_logits_and_params_match_timm(arch):
    """One forward each (the reference is fixed to 224): the classifier's backbone returns all
    four stages, which are compared with timm's intermediates, and its head gives the
    logits."""
    name = f'{FAMILY_OF[arch]}_{arch}'
    params = sum(p.numel() for p in build_classifier(name).parameters())
    assert round(params / 1e6, 2) == pytest.approx(REFERENCE_PARAMS_M[arch], abs=0.006)
    reference, classifier = timm_pair(name)
    assert params == sum(p.numel() for p in reference.parameters())
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        # timm hands V1's last stage back as NCHW too (its tokens reshaped to 7x7)
        final, expected = reference.forward_intermediates(x)
        expected_logits = reference.forward_head(final)
        feats = classifier.extract_feat(x)
        logits = classifier.head(feats)
    assert len(feats) == 4
    for e, g in zip(expected, feats):
        assert e.shape == g.shape
        assert (e - g).abs().max().item() <= 1e-5
    assert (expected_logits - logits).abs().max().item() <= 1e-5


@pytest.mark.parametrize('arch', ['l1', 's0'])
def test_any_input_size_runs(arch):
    backbone = BACKBONE_OF[FAMILY_OF[arch]](arch=arch)
    randomize_(backbone, 1).eval()
    with torch.no_grad():
        outs = backbone(torch.randn(1, 3, 513, 769))
    assert [tuple(o.shape[-2:]) for o in outs] == [(129, 193), (65, 97), (33, 49), (17, 25)]
    assert [o.shape[1] for o in outs] == list(backbone.out_channels)
    assert all(torch.isfinite(o).all() for o in outs)


def test_bias_index_matches_reference_layout():
    v1_attention = timm.create_model('efficientformer_l1').stages[3].blocks[4].token_mixer
    assert torch.equal(relative_offset_index(7), v1_attention.attention_bias_idxs)
    v2_downsample = timm.create_model('efficientformerv2_s0').stages[3].downsample.attn
    assert torch.equal(relative_offset_index(14, query_stride=2),
                       v2_downsample.attention_bias_idxs)


def test_bias_at_training_grid_is_the_plain_gather():
    bias = RelativePositionBias(4, 7)
    torch.nn.init.normal_(bias.table)
    assert torch.equal(bias((7, 7)), bias.table[:, relative_offset_index(7)])
    assert bias((9, 5)).shape == (4, 45, 45)
    strided = RelativePositionBias(4, 14, query_stride=2)
    assert strided((33, 49)).shape == (4, 17 * 25, 33 * 49)


def test_bias_resize_keeps_geometry():
    gen = torch.Generator().manual_seed(0)
    table = torch.randn(3, 7 * 7, generator=gen)
    grid = table.reshape(3, 7, 7)
    resized = resize_offset_bias_table(table, 7, (13, 19)).reshape(3, 13, 19)
    # zero offset and the largest offsets keep their learned values
    for (src_y, src_x), (dst_y, dst_x) in [((0, 0), (0, 0)), ((6, 6), (12, 18)),
                                           ((0, 6), (0, 18)), ((6, 0), (12, 0))]:
        assert torch.allclose(resized[:, dst_y, dst_x], grid[:, src_y, src_x], atol=1e-6)
    # offsets scale with the grid: offset 6 of 13 rows is offset 3 of 7
    assert torch.allclose(resized[:, 6, 0], grid[:, 3, 0], atol=1e-6)
    # a constant bias stays constant; the same size is the identity
    constant = resize_offset_bias_table(torch.full((2, 49), 0.7), 7, (4, 11))
    assert torch.allclose(constant, torch.full_like(constant, 0.7), atol=1e-6)
    assert torch.allclose(resize_offset_bias_table(table, 7, 7), table, atol=1e-6)
    # a one-token axis only needs offset 0 along it
    single = resize_offset_bias_table(table, 7, (1, 7)).reshape(3, 7)
    assert torch.allclose(single, grid[:, 0], atol=1e-6)


def test_out_norm_option_adds_groupnorm_per_output():
    backbone = EfficientFormerV2(arch='s0', out_indices=(1, 3), frozen_stages=2,
                                 out_norm_cfg=dict(type='GN', num_groups=1))
    randomize_(backbone, 4)
    keys = backbone.state_dict().keys()
    assert {'norm1.weight', 'norm3.weight'} <= keys and 'norm0.weight' not in keys
    assert all(not p.requires_grad for p in backbone.norm1.parameters())
    assert all(p.requires_grad for p in backbone.norm3.parameters())
    plain = EfficientFormerV2(arch='s0', out_indices=(1, 3))
    plain.load_state_dict({k: v for k, v in backbone.state_dict().items()
                           if not k.startswith('norm')})
    backbone.eval()
    plain.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        for normed, raw, norm in zip(backbone(x), plain(x), (backbone.norm1, backbone.norm3)):
            expected = torch.nn.functional.group_norm(raw, 1, norm.weight, norm.bias, norm.eps)
            assert (normed - expected).abs().max().item() <= 1e-5
    assert not any(k.startswith('norm') for k in EfficientFormer(arch='l1').state_dict())


@pytest.mark.parametrize('backbone_cls,arch', [(EfficientFormer, 'l1'),
                                               (EfficientFormerV2, 's0')])
def test_norm_eval_leaves_mlp_training(backbone_cls, arch):
    backbone = backbone_cls(arch=arch, norm_eval=True).train()
    assert backbone.stages[3].blocks[-1].mlp.training


def test_registry_builds_from_downstream_scopes():
    from mmdet.registry import MODELS as DET_MODELS
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    assert type(DET_MODELS.build(dict(type='EfficientFormer', arch='l1'))) is EfficientFormer
    v2 = DET_MODELS.build(dict(type='EfficientFormerV2', arch='s0', out_indices=(2, 3)))
    assert type(v2) is EfficientFormerV2 and v2.out_indices == (2, 3)
    # mmpretrain has an EfficientFormer of its own: the root prefix selects mmlow's
    assert type(PRETRAIN_MODELS.build(dict(type='mmengine.EfficientFormer'))) is EfficientFormer


def test_pretrain_img_size_sets_bias_grid():
    backbone = EfficientFormerV2(arch='s0', pretrain_img_size=256)
    grids = {name: m.resolution for name, m in backbone.named_modules()
             if isinstance(m, RelativePositionBias)}
    # 256 -> stage grids 64, 32, 16, 8; stage 3 attends at stride 2, stage 4 enters from 16
    assert grids['stages.2.blocks.5.attn.pos_bias'] == (8, 8)
    assert grids['stages.3.blocks.3.attn.pos_bias'] == (8, 8)
    assert grids['stages.3.downsample.attn.pos_bias'] == (16, 16)
    assert EfficientFormer(arch='l1', pretrain_img_size=(224, 320)).stages[3].token_blocks[
        0].attn.pos_bias.table.shape == (8, math.prod((7, 10)))
