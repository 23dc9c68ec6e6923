import re

import pytest
import timm
import torch
from timm.models.lowformer import checkpoint_filter_fn

from mmlow.converters import CheckpointError, load_state_dict_file
from mmlow.models import LowFormer
from tests.conftest import randomize_
from tools.convert_checkpoint import main as convert_main

# timm -> official (altair199797/LowFormer) key layout, so that the official path can be
# tested without the official weights; timm's own filter is the oracle that it is right.
_TIMM_TO_OFFICIAL = (
    (r'^stem\.', 'backbone.input_stem.op_list.'),
    (r'^stages\.(\d+)\.', r'backbone.stages.\1.op_list.'),
    (r'\.attn\.main\.0\.', '.total.0.0.main.0.'),
    (r'\.attn\.main\.1\.', '.total.0.0.main.1.'),
    (r'\.attn\.main\.', '.total.0.main.'),
    (r'\.mlp\.', '.total.0.1.'),
    (r'\.local\.', '.total.1.'),
    (r'\.conv_proj\.conv\.', '.conv_proj.0.'),
    (r'\.conv_proj\.norm\.', '.conv_proj.1.'),
    (r'\.pwise\.', '.pwise.0.'),
    (r'^in_conv\.', 'head.op_list.0.'),
    (r'^pre_classifier\.0\.', 'head.op_list.2.linear.'),
    (r'^pre_classifier\.1\.', 'head.op_list.2.norm.'),
    (r'^classifier\.', 'head.op_list.3.linear.'),
)


def official_state_dict(timm_state_dict):
    out = {}
    for key, value in timm_state_dict.items():
        for pattern, repl in _TIMM_TO_OFFICIAL:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out


@pytest.mark.parametrize('arch,layout', [('b0', 'timm'), ('e3', 'official'), ('b1', 'official'),
                                         ('e1', 'timm')])
def test_cli_converts_and_init_cfg_loads(tmp_path, capsys, arch, layout):
    reference = randomize_(timm.create_model(f'lowformer_{arch}'), 5).eval()
    state_dict = reference.state_dict()
    if layout == 'official':
        state_dict = official_state_dict(state_dict)
        # the official layout we feed must be what timm itself understands as official
        assert checkpoint_filter_fn(state_dict, reference).keys() == reference.state_dict().keys()
        state_dict = {'state_dict': state_dict, 'epoch': 300}
    src, dst = tmp_path / 'src.pth', tmp_path / 'converted.pth'
    torch.save(state_dict, src)

    assert convert_main([str(src), str(dst), '--arch', f'lowformer_{arch}']) == 0
    assert f'({layout} layout)' in capsys.readouterr().out
    converted = load_state_dict_file(str(dst))
    assert any(k.startswith('head.fc.') for k in converted)

    backbone = LowFormer(arch=arch, init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    backbone.init_weights()
    backbone.eval()
    x = torch.randn(1, 3, 64, 80)
    with torch.no_grad():
        expected = reference.forward_intermediates(x, intermediates_only=True)
        for e, g in zip(expected, backbone(x)):
            assert (e - g).abs().max().item() <= 1e-5


def test_cli_rejects_other_arch_and_unknown_layouts(tmp_path, capsys):
    src = tmp_path / 'b0.pth'
    torch.save(timm.create_model('lowformer_b0').state_dict(), src)
    assert convert_main([str(src), str(tmp_path / 'x.pth'), '--arch', 'lowformer_b1']) == 2
    assert 'another architecture' in capsys.readouterr().err
    assert not (tmp_path / 'x.pth').exists()

    foreign = tmp_path / 'resnet.pth'
    torch.save({'conv1.weight': torch.zeros(1), 'fc.bias': torch.zeros(1)}, foreign)
    assert convert_main([str(foreign), str(tmp_path / 'y.pth'), '--arch', 'lowformer_b0']) == 2
    assert 'matches none of the lowformer layouts' in capsys.readouterr().err

    assert convert_main([str(src), str(tmp_path / 'z.pth'), '--arch', 'resnet_50']) == 2
    assert 'unknown arch' in capsys.readouterr().err


def test_checkpoints_with_code_are_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': print}, path)
    with pytest.raises(CheckpointError, match='weights-only'):
        load_state_dict_file(str(path))


def test_safetensors_source(tmp_path):
    from safetensors.torch import save_file
    reference = timm.create_model('lowformer_b0')
    path = tmp_path / 'model.safetensors'
    save_file(reference.state_dict(), str(path))
    assert convert_main([str(path), str(tmp_path / 'out.pth'), '--arch', 'lowformer_b0']) == 0
