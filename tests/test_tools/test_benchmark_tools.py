"""tools/export_onnx.py, benchmark.py and compare_backbones.py on RetinaNet-LowFormer configs."""
import json
import os
import re

import numpy as np
import onnxruntime as ort
import pytest
import torch
from PIL import Image
from torch.utils._pytree import tree_flatten

from mmlow.analysis import count_macs
from mmlow.benchmark import RECORD_KEYS
from mmlow.deploy import backend_model as backend_model_module
from mmlow.reports.compare import spearman
from mmlow.deploy.detection import preselect_top_priors
from mmlow.deploy.loading import model_from_config
from tests.conftest import randomize_
from tests.tiny_configs import tiny_shapes_cfg
from tools.benchmark import main as benchmark_main
from tools.compare_backbones import main as compare_main
from tools.export_onnx import main as export_main

CONFIG = 'configs/detection/retinanet_lowformer_b1_shapes.py'


@pytest.fixture
def checkpoint(tmp_path, repo_root):
    """Random weights and BN statistics, saved as a plain state dict."""
    model, _ = model_from_config(os.path.join(repo_root, CONFIG))
    randomize_(model)
    path = str(tmp_path / 'random.pth')
    torch.save(model.state_dict(), path)
    return model.eval(), path


@pytest.mark.parametrize('backbone_only', [True, False])
def test_export_onnx_round_trip(tmp_path, repo_root, checkpoint, capsys, backbone_only):
    model, path = checkpoint
    out = str(tmp_path / 'export' / 'model.onnx')
    argv = [os.path.join(repo_root, CONFIG), path, '--out', out, '--shape', '64', '96']
    assert export_main(argv + (['--backbone-only'] if backbone_only else [])) == 0
    assert 'ONNX Runtime vs eager PyTorch' in capsys.readouterr().out

    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        expected = model.backbone(x) if backbone_only else model(x, mode='tensor')
    expected = tree_flatten(expected)[0]
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    got = session.run(None, {'input': x.numpy()})
    assert len(got) == len(expected) == (3 if backbone_only else 10)  # 5 levels x cls, box
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-3, atol=1e-4 * e.abs().max().item())


def test_benchmark_end_to_end_writes_records(tmp_path, repo_root, capsys):
    out = str(tmp_path / 'bench.json')
    config = os.path.join(repo_root, CONFIG)
    assert benchmark_main([config, '--backend', 'onnxruntime', '--shape', '64', '64',
                           '--iters', '3', '--warmup', '1', '--out', out]) == 0
    printed = capsys.readouterr().out
    assert '| RetinaNet/LowFormer | retinanet_lowformer_b1_shapes.py | end2end | onnxruntime ' \
           '| fp32 | 64x64 | 1 |' in printed
    with open(out) as f:
        (record, ) = json.load(f)
    assert tuple(record) == RECORD_KEYS
    assert record['num_iters'] == 3 and record['fps'] > 0 and record['deploy']
    # RetinaNet's own initialisation: no score passes the threshold, nothing reaches NMS
    assert record['nms_candidates'] == 0 and record['boxes_out'] == 0
    assert 0 < record['forward_ms'] < record['median_ms']
    # how close to the machine: the network forward's MACs over its own time, beside the peak
    model, _ = model_from_config(config)
    macs = count_macs(model, (1, 3, 64, 64))
    assert record['gmacs'] == pytest.approx(macs / 1e9)
    assert record['gflops'] == pytest.approx(2 * macs / record['forward_ms'] / 1e6)
    peak = float(re.search(r'matmul peak (\d+) GFLOP/s fp32', printed)[1])
    assert record['peak_gflops'] == pytest.approx(peak, abs=0.5)
    share = round(100 * record['gflops'] / record['peak_gflops'])
    assert (f'| {record["forward_ms"]:.2f} | 0 | 0 | {record["gmacs"]:.2f} | '
            f'{record["gflops"]:.0f} ({share} %) |') in printed


def test_benchmark_candidates_reach_nms(tmp_path, repo_root, capsys):
    # set_candidates counts on the eager model, the benchmark runs the BN-fused one: a seed
    # whose 400th and 401st logits do not lie within the fusion's rounding of each other
    torch.manual_seed(0)
    out = str(tmp_path / 'bench.json')
    assert benchmark_main([os.path.join(repo_root, CONFIG), '--shape', '64', '64', '--iters',
                           '2', '--warmup', '0', '--candidates', '400', '--out', out]) == 0
    with open(out) as f:
        (record, ) = json.load(f)
    # 400 of 2,322 pairs pass; no level holds more than nms_pre (1,000) of them
    assert record['nms_candidates'] == 400 and 0 < record['boxes_out'] <= 100
    assert '| 400 |' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        benchmark_main([os.path.join(repo_root, CONFIG), '--candidates', 'some'])


def test_benchmark_mmdet_filter_keeps_mmdets_dense_filter(tmp_path, repo_root, monkeypatch):
    calls = []

    def counted(head):
        calls.append(type(head).__name__)
        return preselect_top_priors(head)
    monkeypatch.setattr(backend_model_module, 'preselect_top_priors', counted)
    records = {}
    for flags in ([], ['--mmdet-filter']):
        out = str(tmp_path / f'bench{len(flags)}.json')
        calls.clear()
        torch.manual_seed(0)  # the same random weights and image for both runs
        assert benchmark_main([os.path.join(repo_root, CONFIG), '--shape', '64', '64',
                               '--iters', '1', '--warmup', '0', '--candidates', '400',
                               '--out', out, *flags]) == 0
        with open(out) as f:
            (records[bool(flags)], ) = json.load(f)
        assert calls == ([] if flags else ['RetinaHead'])
    for key in ('nms_candidates', 'boxes_out'):  # the same post-processing either way
        assert records[True][key] == records[False][key]


def test_benchmark_times_real_images_through_the_test_pipeline(tmp_path, repo_root,
                                                               checkpoint, capsys):
    _, path = checkpoint
    images = tmp_path / 'images'
    images.mkdir()
    for index, size in enumerate([(60, 90), (90, 60), (70, 70)]):
        Image.fromarray(np.random.RandomState(index).randint(
            0, 256, (*size, 3), dtype=np.uint8)).save(images / f'{index}.png')
    (images / 'notes.txt').write_text('not an image')
    out = str(tmp_path / 'bench.json')
    assert benchmark_main([os.path.join(repo_root, CONFIG), path, '--images', str(images),
                           '--iters', '3', '--warmup', '0', '--out', out]) == 0
    with open(out) as f:
        (record, ) = json.load(f)
    # the config's Resize (128x128, keep ratio) and the preprocessor's padding to 32
    assert record['input_shape'][2:] in ([96, 128], [128, 96], [128, 128])
    assert record['num_images'] == 3 and record['nms_candidates'] is not None
    assert benchmark_main([os.path.join(repo_root, CONFIG), '--images',
                           str(tmp_path / 'empty')]) == 2
    assert 'no images' in capsys.readouterr().err


def test_benchmark_vs_prints_the_ratio(tmp_path, repo_root, capsys):
    config = os.path.join(repo_root, CONFIG)
    out = str(tmp_path / 'vs.json')
    assert benchmark_main([config, '--backbone-only', '--shape', '64', '64', '--iters', '4',
                           '--warmup', '1', '--vs', config, '--out', out]) == 0
    printed = capsys.readouterr().out
    ratio = float(printed.split('(median latency): ')[1].split()[0])
    with open(out) as f:
        first, second = json.load(f)
    assert first['mode'] == second['mode'] == 'backbone'
    assert ratio == pytest.approx(first['median_ms'] / second['median_ms'], rel=1e-3)


def test_benchmark_on_a_missing_gpu_is_a_clear_error(repo_root, capsys):
    if torch.cuda.is_available():
        pytest.skip('a CUDA GPU is present')
    assert benchmark_main([os.path.join(repo_root, CONFIG), '--backend', 'cuda-fp16']) == 2
    error = capsys.readouterr().err
    assert "backend 'cuda-fp16' is unavailable here" in error and 'onnxruntime' in error


def test_compare_backbones_writes_table_and_plot(tmp_path, repo_root, capsys):
    results = tmp_path / 'results.json'
    results.write_text(json.dumps({'retinanet_lowformer_b1_shapes': {'coco/bbox_mAP': 0.5}}))
    configs = [os.path.join(repo_root, CONFIG),
               os.path.join(repo_root, 'configs/detection/retinanet_lowformer_b1_coco.py')]
    out_dir = tmp_path / 'compare'
    assert compare_main(configs + ['--backends', 'cpu', '--shape', '64', '64', '--iters', '2',
                                   '--warmup', '1', '--results', str(results),
                                   '--metric', 'coco/bbox_mAP',
                                   '--out-dir', str(out_dir)]) == 0
    for suffix in ('png', 'svg', 'md', 'json'):
        assert (out_dir / f'compare.{suffix}').stat().st_size > 0
    table = (out_dir / 'compare.md').read_text()
    assert '| retinanet_lowformer_b1_shapes | 0.500 |' in table
    assert '| retinanet_lowformer_b1_coco | - |' in table  # no accuracy given for it
    rows = json.loads((out_dir / 'compare.json').read_text())['rows']
    assert all(row['fps']['cpu'] > 0 and row['macs'] > row['backbone_macs'] > 0
               for row in rows)
    assert all(row['nms_candidates'] == 0 and row['boxes_out'] == 0 for row in rows)
    assert '| NMS in/img | boxes/img |' in table


def test_spearman_rank_correlation():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ties share their mean rank: ranks (1.5, 1.5, 3) vs (1, 2, 3)
    assert spearman([5, 5, 7], [1, 2, 3]) == pytest.approx(0.8660254)
    assert spearman([1, 2], [2, 1]) is None  # too few points to rank


def test_benchmark_int8_is_calibrated_on_the_config_and_rated_against_the_int8_peak(
        tmp_path, repo_root, capsys):
    config = tmp_path / 'tiny.py'
    tiny_shapes_cfg(os.path.join(repo_root, CONFIG), str(tmp_path / 'shapes'),
                    str(tmp_path / 'work'), num_train=3, num_val=1).dump(str(config))
    out = str(tmp_path / 'bench.json')
    assert benchmark_main([str(config), '--backends', 'openvino/int8', 'cpu',
                           '--calib', '2', '--shape', '64', '64', '--iters', '2',
                           '--warmup', '1', '--out', out]) == 0
    printed = capsys.readouterr().out
    with open(out) as f:
        record, eager = json.load(f)
    assert (record['backend'], record['precision']) == ('openvino', 'int8')
    assert (eager['backend'], eager['precision']) == ('cpu', 'fp32')
    ratio = float(re.search(r'ratio tiny.py openvino/int8 / tiny.py cpu/fp32 \(median '
                            r'latency\): ([\d.]+)', printed)[1])
    assert ratio == pytest.approx(record['median_ms'] / eager['median_ms'], abs=5e-4)
    peak = float(re.search(r'(\d+) GOP/s openvino/int8', printed)[1])
    assert record['peak_gflops'] == pytest.approx(peak, abs=0.5)
    assert 'int8 calibration of tiny.py: 2 images of the training set of tiny.py (3 in all)' \
        in printed
    assert benchmark_main([str(config), '--backends', 'openvino/int8', '--precision',
                           'int8']) == 2
    assert 'give it without --precision' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        benchmark_main([str(config), '--backends', 'openvino/int8', '--backend', 'onnxruntime'])
