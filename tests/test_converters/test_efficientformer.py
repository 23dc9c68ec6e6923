import json
import os.path as osp
import re

import pytest
import timm
import torch
from timm.models.efficientformer import checkpoint_filter_fn

from mmlow.converters import load_state_dict_file
from mmlow.models import EfficientFormer, EfficientFormerV2
from tests.conftest import randomize_
from tools.convert_checkpoint import main as convert_main

# timm -> official (snap-research/EfficientFormer) key layouts, so that the official paths can be
# tested without the official weights. Official V1: timm's own filter is the oracle; official V2
# (timm has no filter for it): the key/shape list of the official model, stored beside this file.
_V1_TIMM_TO_OFFICIAL = (
    (r'^stem\.conv1\.', 'patch_embed.0.'),
    (r'^stem\.norm1\.', 'patch_embed.1.'),
    (r'^stem\.conv2\.', 'patch_embed.3.'),
    (r'^stem\.norm2\.', 'patch_embed.4.'),
    (r'^stages\.(\d+)\.blocks\.', lambda m: f'network.{2 * int(m.group(1))}.'),
    (r'^stages\.(\d+)\.downsample\.conv\.', lambda m: f'network.{2 * int(m.group(1)) - 1}.proj.'),
    (r'^stages\.(\d+)\.downsample\.norm\.', lambda m: f'network.{2 * int(m.group(1)) - 1}.norm.'),
    (r'\.ls(\d)\.gamma$', r'.layer_scale_\1'),
    (r'^head_dist\.', 'dist_head.'),
)

_V2_TIMM_TO_OFFICIAL = (
    (r'^stem\.conv1\.conv\.', 'patch_embed.0.'),
    (r'^stem\.conv1\.bn\.', 'patch_embed.1.'),
    (r'^stem\.conv2\.conv\.', 'patch_embed.3.'),
    (r'^stem\.conv2\.bn\.', 'patch_embed.4.'),
    (r'^stages\.(\d+)\.blocks\.', lambda m: f'network.{2 * int(m.group(1))}.'),
    (r'^stages\.3\.downsample\.conv\.conv\.', 'network.5.conv.'),
    (r'^stages\.3\.downsample\.conv\.bn\.', 'network.5.bn.'),
    (r'^stages\.3\.downsample\.attn\.', 'network.5.attn.'),
    (r'^stages\.(\d+)\.downsample\.conv\.conv\.',
     lambda m: f'network.{2 * int(m.group(1)) - 1}.proj.'),
    (r'^stages\.(\d+)\.downsample\.conv\.bn\.',
     lambda m: f'network.{2 * int(m.group(1)) - 1}.norm.'),
    (r'\.token_mixer\.proj\.conv\.', '.token_mixer.proj.1.'),
    (r'\.token_mixer\.proj\.bn\.', '.token_mixer.proj.2.'),
    (r'\.attn\.proj\.conv\.', '.attn.proj.1.'),
    (r'\.attn\.proj\.bn\.', '.attn.proj.2.'),
    (r'\.q\.local\.', '.q.local.0.'),
    (r'\.q\.proj\.conv\.', '.q.proj.0.'),
    (r'\.q\.proj\.bn\.', '.q.proj.1.'),
    (r'\.(q|k|v|v_local|stride_conv)\.conv\.', r'.\1.0.'),
    (r'\.(q|k|v|v_local|stride_conv)\.bn\.', r'.\1.1.'),
    (r'\.mlp\.(fc1|fc2|mid)\.conv\.', r'.mlp.\1.'),
    (r'\.mlp\.fc(\d)\.bn\.', r'.mlp.norm\1.'),
    (r'\.mlp\.mid\.bn\.', '.mlp.mid_norm.'),
    (r'\.ls(\d)\.gamma$', r'.layer_scale_\1'),
    (r'^head_dist\.', 'dist_head.'),
)


def _remap(state_dict, rules):
    out = {}
    for key, value in state_dict.items():
        for pattern, repl in rules:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out


def v1_official_state_dict(reference):
    return _remap(reference.state_dict(), _V1_TIMM_TO_OFFICIAL)


def v2_official_state_dict(reference):
    # the official model saves its bias index buffers and keeps layer scales as (C, 1, 1)
    state_dict = dict(reference.state_dict())
    state_dict.update((name, buffer) for name, buffer in reference.named_buffers()
                      if name.endswith('attention_bias_idxs'))
    state_dict = {k: v.reshape(-1, 1, 1) if re.search(r'\.ls\d\.gamma$', k) else v
                  for k, v in state_dict.items()}
    return _remap(state_dict, _V2_TIMM_TO_OFFICIAL)


def test_v2_official_layout_matches_the_official_model():
    with open(osp.join(osp.dirname(__file__), 'efficientformerv2_s0_official_keys.json')) as f:
        official_shapes = json.load(f)['shapes']
    state_dict = v2_official_state_dict(timm.create_model('efficientformerv2_s0'))
    assert {k: list(v.shape) for k, v in state_dict.items()} == official_shapes


@pytest.mark.parametrize('family,arch,layout', [('efficientformer', 'l1', 'timm'),
                                                ('efficientformer', 'l1', 'official'),
                                                ('efficientformerv2', 's0', 'timm'),
                                                ('efficientformerv2', 's0', 'official')])
def test_cli_converts_and_init_cfg_loads(tmp_path, capsys, family, arch, layout):
    reference = randomize_(timm.create_model(f'{family}_{arch}'), 5).eval()
    state_dict = reference.state_dict()
    if layout == 'official' and family == 'efficientformer':
        state_dict = v1_official_state_dict(reference)
        # the official layout we feed must be what timm itself understands as official
        assert checkpoint_filter_fn(state_dict, reference).keys() == reference.state_dict().keys()
    elif layout == 'official':
        state_dict = v2_official_state_dict(reference)
    if layout == 'official':
        state_dict = {'model': state_dict}  # how the official training script saves
    src, dst = tmp_path / 'src.pth', tmp_path / 'converted.pth'
    torch.save(state_dict, src)

    assert convert_main([str(src), str(dst), '--arch', f'{family}_{arch}']) == 0
    assert f'({layout} layout)' in capsys.readouterr().out
    converted = load_state_dict_file(str(dst))
    assert {'head.fc.weight', 'head.fc_dist.weight', 'head.norm.weight'} <= converted.keys()

    backbone_cls = EfficientFormer if family == 'efficientformer' else EfficientFormerV2
    backbone = backbone_cls(arch=arch, init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    backbone.init_weights()
    backbone.eval()
    x = torch.randn(1, 3, 224, 224)  # the reference's attention biases fix it to 224
    with torch.no_grad():
        expected = reference.forward_intermediates(x, intermediates_only=True)
        for e, g in zip(expected, backbone(x)):
            assert (e - g).abs().max().item() <= 1e-5


def test_cli_rejects_the_other_version(tmp_path, capsys):
    src = tmp_path / 'l1.pth'
    torch.save(timm.create_model('efficientformer_l1').state_dict(), src)
    assert convert_main([str(src), str(tmp_path / 'x.pth'), '--arch',
                         'efficientformerv2_s0']) == 2
    assert 'matches none of the efficientformerv2 layouts' in capsys.readouterr().err
    official_v2 = tmp_path / 's0_official.pth'
    torch.save(v2_official_state_dict(timm.create_model('efficientformerv2_s0')), official_v2)
    assert convert_main([str(official_v2), str(tmp_path / 'y.pth'), '--arch',
                         'efficientformer_l1']) == 2
    assert 'matches none of the efficientformer layouts' in capsys.readouterr().err
    assert convert_main([str(src), str(tmp_path / 'z.pth'), '--arch',
                         'efficientformer_l3']) == 2
    assert 'another architecture' in capsys.readouterr().err
    assert not any((tmp_path / name).exists() for name in ('x.pth', 'y.pth', 'z.pth'))
