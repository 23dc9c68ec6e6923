"""The "beyond MACs" table of bare backbones: rows, rank correlations and plot."""
import json

import pytest

from mmlow.reports.beyond_macs import ALL_BACKBONES, rank_correlations
from mmlow.reports.compare import spearman
from tools.analysis.beyond_macs import main as beyond_macs_main

MODELS = ['lowformer_b0', 'efficientvit_m0', 'efficientformerv2_s0']


def test_every_variant_of_every_family_is_listed():
    assert len(ALL_BACKBONES) == 21 and len(set(ALL_BACKBONES)) == 21
    for family, count in (('lowformer_', 8), ('efficientvit_', 6), ('efficientformer_', 3),
                          ('efficientformerv2_', 4)):
        assert sum(name.startswith(family) for name in ALL_BACKBONES) == count


def test_tool_writes_table_json_and_plot(tmp_path, capsys):
    assert beyond_macs_main(['--models', *MODELS, '--sizes', '64', '--backends', 'cpu',
                             'onnxruntime', '--repeats', '2', '--out-dir', str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    rows = json.loads((tmp_path / 'beyond_macs.json').read_text())
    assert [row['name'] for row in rows] == MODELS
    for row in rows:
        assert row['size'] == 64 and row['macs'] > 0 and row['params'] > 0
        assert set(row['ms']) == {'cpu/fp32', 'onnxruntime/fp32'}
        assert all(ms > 0 for ms in row['ms'].values())
        assert f'| {row["name"]} | 64 | {row["params"] / 1e6:.2f} | ' in printed
    rho = rank_correlations(rows)
    for key in ('cpu/fp32', 'onnxruntime/fp32'):
        expected = spearman([row['macs'] for row in rows], [row['ms'][key] for row in rows])
        assert rho[(64, key)] == pytest.approx(expected)
    assert 'Spearman rho (MACs vs latency) at 64: cpu/fp32 ' in printed
    for suffix in ('md', 'png', 'svg'):
        assert (tmp_path / f'beyond_macs.{suffix}').stat().st_size > 0
