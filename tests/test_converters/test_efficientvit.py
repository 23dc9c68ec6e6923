import re

import pytest
import timm
import torch

from mmlow.converters import load_state_dict_file
from mmlow.models.classifiers import build_classifier
from mmlow.models.weights import load_strict
from mmlow.models import EfficientViTMSRA
from tests.conftest import randomize_
from tools.convert_checkpoint import main as convert_main

pytestmark = pytest.mark.usefixtures('single_thread')

# timm 1.0.31 has no converter for the official layout (its old filter is commented out), so the
# official names below are read off microsoft/Cream EfficientViT/classification/model/
# efficientvit.py: patch_embed is a Sequential of Conv2d_BN (c, bn) and ReLU; blocks2/blocks3
# open with Sequential(Residual(dw), Residual(FFN)), PatchMerging, the same pair again; Residual
# keeps its branch as `m`; the head is BN_Linear (bn, l); attention_bias_idxs is persistent.
_TIMM_DOWNSAMPLE_TO_OFFICIAL_INDEX = {'res1': 0, 'patchmerge': 1, 'res2': 2}


def _timm_key_to_official(key: str) -> str:
    key = re.sub(r'^patch_embed\.conv(\d)\.', lambda m: f'patch_embed.{2 * (int(m[1]) - 1)}.',
                 key)
    key = re.sub(r'^stages\.0\.blocks\.(\d+)\.', r'blocks1.\1.', key)
    key = re.sub(r'^stages\.(\d)\.downsample\.(\w+)\.',
                 lambda m: f'blocks{int(m[1]) + 1}.{_TIMM_DOWNSAMPLE_TO_OFFICIAL_INDEX[m[2]]}.',
                 key)
    key = re.sub(r'^stages\.(\d)\.blocks\.(\d+)\.',
                 lambda m: f'blocks{int(m[1]) + 1}.{int(m[2]) + 3}.', key)
    key = re.sub(r'^head\.linear\.', 'head.l.', key)
    return re.sub(r'\.conv\.', '.c.', key)


def official_state_dict(timm_state_dict):
    out = {}
    for key, value in timm_state_dict.items():
        out[_timm_key_to_official(key)] = value
        if key.endswith('attention_biases'):
            out[_timm_key_to_official(key).replace('attention_biases', 'attention_bias_idxs')] = \
                torch.zeros(1, dtype=torch.long)
    return out


def test_official_layout_has_the_official_names():
    keys = official_state_dict(timm.create_model('efficientvit_m4').state_dict()).keys()
    for name in ('patch_embed.0.c.weight', 'patch_embed.6.bn.running_var',
                 'blocks1.0.dw0.m.c.weight', 'blocks1.0.mixer.m.attn.attention_bias_idxs',
                 'blocks1.0.mixer.m.attn.proj.1.bn.weight', 'blocks2.0.1.m.pw2.bn.bias',
                 'blocks2.1.conv2.c.weight', 'blocks2.1.se.fc1.weight',
                 'blocks3.2.0.m.c.weight', 'blocks3.5.ffn1.m.pw1.c.weight',
                 'head.bn.running_mean', 'head.l.weight'):
        assert name in keys
    assert not any(k.startswith('stages.') or '.conv.' in k for k in keys)


@pytest.mark.parametrize('arch,layout', [('m0', 'timm'), ('m4', 'official'), ('m5', 'official'),
                                         ('m2', 'timm')])
def test_cli_converts_and_init_cfg_loads(tmp_path, capsys, arch, layout):
    reference = randomize_(timm.create_model(f'efficientvit_{arch}'), 5).eval()
    state_dict = reference.state_dict()
    if layout == 'official':
        state_dict = {'model': official_state_dict(state_dict), 'epoch': 299}
    src, dst = tmp_path / 'src.pth', tmp_path / 'converted.pth'
    torch.save(state_dict, src)

    assert convert_main([str(src), str(dst), '--arch', f'efficientvit_{arch}']) == 0
    assert f'({layout} layout)' in capsys.readouterr().out
    converted = load_state_dict_file(str(dst))
    assert any(k.startswith('head.fc.') for k in converted)
    assert not any(k.endswith('attention_bias_idxs') for k in converted)

    backbone = EfficientViTMSRA(arch=arch, init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    backbone.init_weights()
    backbone.eval()
    classifier = build_classifier(f'efficientvit_{arch}').eval()
    load_strict(classifier, converted, 'converted checkpoint')
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        expected = reference.forward_intermediates(x, intermediates_only=True)
        for e, g in zip(expected, backbone(x)):
            assert (e - g).abs().max().item() <= 1e-5
        assert (reference(x) - classifier(x, mode='tensor')).abs().max().item() <= 1e-5


def test_official_2d_conv_weights_become_1x1_kernels(tmp_path):
    # the official loader (model/build.py) reshapes 2-D weights to conv kernels; so do we
    reference = randomize_(timm.create_model('efficientvit_m0'), 6).eval()
    state_dict = official_state_dict(reference.state_dict())
    squeezed = [k for k in state_dict if '.se.fc' in k and k.endswith('weight')]
    assert squeezed
    for key in squeezed:
        state_dict[key] = state_dict[key].flatten(1)
    src, dst = tmp_path / 'src.pth', tmp_path / 'out.pth'
    torch.save({'model': state_dict}, src)
    assert convert_main([str(src), str(dst), '--arch', 'efficientvit_m0']) == 0
    converted = load_state_dict_file(str(dst))
    assert torch.equal(converted['backbone.stages.1.downsample.merge.se.conv1.conv.weight'],
                       reference.state_dict()['stages.1.downsample.patchmerge.se.fc1.weight'])


def test_mmlow_layout_converts_again(tmp_path, capsys):
    src = tmp_path / 'timm.pth'
    torch.save(timm.create_model('efficientvit_m1').state_dict(), src)
    assert convert_main([str(src), str(tmp_path / 'a.pth'), '--arch', 'efficientvit_m1']) == 0
    assert convert_main([str(tmp_path / 'a.pth'), str(tmp_path / 'b.pth'),
                         '--arch', 'efficientvit_m1']) == 0
    assert '(mmlow layout)' in capsys.readouterr().out


def test_cli_refuses_distilled_foreign_and_mismatched_checkpoints(tmp_path, capsys):
    state_dict = official_state_dict(timm.create_model('efficientvit_m0').state_dict())
    distilled = dict(state_dict, **{k.replace('head.', 'head_dist.'): v
                                    for k, v in state_dict.items() if k.startswith('head.')})
    src = tmp_path / 'distilled.pth'
    torch.save({'model': distilled}, src)
    assert convert_main([str(src), str(tmp_path / 'x.pth'), '--arch', 'efficientvit_m0']) == 2
    assert 'distillation' in capsys.readouterr().err

    lowformer = tmp_path / 'lowformer.pth'
    torch.save(timm.create_model('lowformer_b0').state_dict(), lowformer)
    assert convert_main([str(lowformer), str(tmp_path / 'y.pth'),
                         '--arch', 'efficientvit_m0']) == 2
    assert 'matches none of the efficientvit layouts' in capsys.readouterr().err

    m0 = tmp_path / 'm0.pth'
    torch.save(timm.create_model('efficientvit_m0').state_dict(), m0)
    assert convert_main([str(m0), str(tmp_path / 'z.pth'), '--arch', 'efficientvit_m3']) == 2
    assert 'another architecture' in capsys.readouterr().err
    assert not (tmp_path / 'z.pth').exists()
