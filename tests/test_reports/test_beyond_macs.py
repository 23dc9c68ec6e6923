"""The "beyond MACs" table of bare backbones: rows, rank correlations and plot."""
import json
import os

import pytest

from mmlow.deploy.quantize import BACKBONE_CALIBRATION_CONFIG
from mmlow.reports.beyond_macs import ALL_BACKBONES, rank_correlations
from mmlow.reports.compare import spearman
from tests.tiny_configs import tiny_shapes_cfg
from tools.analysis.beyond_macs import main as beyond_macs_main

MODELS = ['lowformer_b0', 'efficientvit_m0', 'efficientformerv2_s0']


def test_every_variant_of_every_family_is_listed():
    assert len(ALL_BACKBONES) == 21 and len(set(ALL_BACKBONES)) == 21
    for family, count in (('lowformer_', 8), ('efficientvit_', 6), ('efficientformer_', 3),
                          ('efficientformerv2_', 4)):
        assert sum(name.startswith(family) for name in ALL_BACKBONES) == count


def test_tool_writes_table_json_and_plot(tmp_path, repo_root, capsys):
    # int8 rows, calibrated on the training images of a (tiny) config
    calib_config = str(tmp_path / 'calib.py')
    tiny_shapes_cfg(os.path.join(repo_root, BACKBONE_CALIBRATION_CONFIG),
                    str(tmp_path / 'shapes'), '', num_train=2, num_val=1).dump(calib_config)
    assert beyond_macs_main(['--models', *MODELS, '--sizes', '64', '--backends', 'cpu',
                             'onnxruntime/int8', '--calib', '2', '--calib-config',
                             calib_config, '--repeats', '2', '--out-dir', str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    rows = json.loads((tmp_path / 'beyond_macs.json').read_text())
    assert [row['name'] for row in rows] == MODELS
    for row in rows:
        assert row['size'] == 64 and row['macs'] > 0 and row['params'] > 0
        assert set(row['ms']) == {'cpu/fp32', 'onnxruntime/int8'}
        assert all(ms > 0 for ms in row['ms'].values())
        assert f'| {row["name"]} | 64 | {row["params"] / 1e6:.2f} | ' in printed
    rho = rank_correlations(rows)
    for key in ('cpu/fp32', 'onnxruntime/int8'):
        expected = spearman([row['macs'] for row in rows], [row['ms'][key] for row in rows])
        assert rho[(64, key)] == pytest.approx(expected)
    assert 'Spearman rho (MACs vs latency) at 64: cpu/fp32 ' in printed
    for suffix in ('md', 'png', 'svg'):
        assert (tmp_path / f'beyond_macs.{suffix}').stat().st_size > 0
