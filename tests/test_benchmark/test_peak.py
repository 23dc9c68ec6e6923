"""Achieved GFLOP/s beside the machine's matmul peak, and the backbone-vs-timm tool."""
import os
import re

import pytest
import torch

from mmlow.benchmark.peak import achieved_gflops, int8_matmul_peak_gops, matmul_peak_gflops
from mmlow.deploy.quantize import BACKBONE_CALIBRATION_CONFIG
from tests.tiny_configs import tiny_shapes_cfg
from tools.benchmark_backbone import main as benchmark_backbone


def test_achieved_gflops_counts_two_flops_per_mac():
    assert achieved_gflops(macs=5 * 10**9, ms=100.) == pytest.approx(100.)


def test_matmul_peak_is_a_real_rate():
    # a 256 matmul takes microseconds to milliseconds: anything between 0.1 GFLOP/s and what
    # 2 cores can do at most (AVX-512 bf16 on every cycle) is a measurement
    for precision in ('fp32', 'bf16'):
        assert 0.1 < matmul_peak_gflops(precision, size=256, repeats=2) < 10_000


def test_int8_peak_is_a_real_rate():
    assert 0.1 < int8_matmul_peak_gops('onnxruntime', size=256, repeats=2) < 100_000


def test_benchmark_backbone_reports_each_variant_against_timm(tmp_path, repo_root, capsys):
    torch.manual_seed(0)
    calib_config = str(tmp_path / 'calib.py')
    tiny_shapes_cfg(os.path.join(repo_root, BACKBONE_CALIBRATION_CONFIG),
                    str(tmp_path / 'shapes'), '', num_train=2, num_val=1).dump(calib_config)
    benchmark_backbone(['--models', 'lowformer_b0', '--sizes', '64', '--batches', '1',
                        '--backends', 'cpu', 'cpu/bf16', 'openvino/int8', '--repeats', '2',
                        '--calib', '2', '--calib-config', calib_config])
    out = capsys.readouterr().out
    peaks = re.search(r'matmul peak (\d+) GFLOP/s fp32, (\d+) GFLOP/s bf16, (\d+) GOP/s '
                      r'openvino/int8', out)
    assert peaks and int(peaks[1]) > 0 and int(peaks[2]) > 0 and int(peaks[3]) > 0
    assert 'int8 calibration and inputs: 2 images of the training set of calib.py' in out
    (row, ) = [line for line in out.splitlines() if line.startswith('| lowformer_b0')]
    cells = [cell.strip() for cell in row.strip('|').split('|')]
    assert cells[:2] == ['lowformer_b0', '1x3x64x64'] and len(cells) == 4 + 3 * 4
    timm_ms = float(cells[3])
    errors = []
    for ms, ratio, rate, error in (cells[4:8], cells[8:12], cells[12:16]):
        assert float(ratio) == pytest.approx(float(ms) / timm_ms, rel=0.05, abs=2e-3)
        gflops, share = re.fullmatch(r'(\d+) \((\d+) %\)', rate).groups()
        assert int(gflops) >= 0 and 0 <= int(share) <= 100
        errors.append(float(error))
    # the deployed fp32 model computes timm's map; bf16 and int8 visibly do not, within their
    # tolerances
    assert errors[0] < 1e-4 < errors[1] < 0.1
    assert 1e-3 < errors[2] < 0.3
    assert 'worst ratio cpu/fp32 / timm eager fp32' in out
    assert 'worst ratio cpu/bf16 / timm eager fp32' in out
