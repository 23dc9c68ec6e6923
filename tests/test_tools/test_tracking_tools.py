"""Tracking tools end to end on tiny fake data: test.py writes the toolkit's result files,
eval_tracking.py scores them, track_demo.py writes a video, compare_trackers.py the table."""
import importlib.util
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmlow.registry import MODELS
from tests.conftest import REPO_ROOT
from tests.tracking_fakes import make_got10k

CPU_CONFIG = osp.join(REPO_ROOT, 'configs/tracking/lowformer-track_cpu_synthetic.py')


def _tool(name):
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO_ROOT, 'tools',
                                                                 f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp('tracking')
    truth = make_got10k(str(root / 'data'), 'val', num_sequences=2, num_frames=4,
                        size=(96, 80))
    for name, (boxes, _) in truth.items():   # the tracker needs boxes of positive size
        boxes[:, :2] = np.abs(boxes[:, :2])
        np.savetxt(root / 'data' / 'val' / name / 'groundtruth.txt', boxes, delimiter=',')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CPU_CONFIG).model)
    checkpoint = str(root / 'tracker.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    # the CPU preset, tested on the fake val sequences
    config = root / 'cpu_on_fake_data.py'
    config.write_text(f"_base_ = ['{CPU_CONFIG}']\n"
                      f"tracking_test = dict(reader=dict(_delete_=True, type='GOT10kReader', "
                      f"root='{root / 'data'}', subset='val'), format='got10k')\n")
    return root, truth, checkpoint, str(config)


def test_test_tool_writes_got10k_results_and_eval_tool_scores_them(tiny, capsys):
    root, truth, checkpoint, config = tiny
    result_dir = str(root / 'results')
    assert _tool('test').main([config, checkpoint, '--out', result_dir,
                               '--work-dir', str(root / 'wd')]) == 0
    printed = capsys.readouterr().out
    assert 'AO' in printed and 'SR0.75' in printed
    for name, (boxes, _) in truth.items():
        result = np.loadtxt(osp.join(result_dir, name, f'{name}_001.txt'), delimiter=',')
        assert result.shape == boxes.shape
        np.testing.assert_allclose(result[0], boxes[0], atol=1e-3)
        assert np.loadtxt(osp.join(result_dir, name, f'{name}_time.txt')).shape == (4, )
    assert _tool('eval_tracking').main(['--format', 'got10k', '--data', str(root / 'data'),
                                        '--results', result_dir, '--per-sequence']) == 0
    table = capsys.readouterr().out
    assert all(name in table for name in truth)
    (root / 'results' / name / f'{name}_001.txt').unlink()
    assert _tool('eval_tracking').main(['--format', 'got10k', '--data', str(root / 'data'),
                                        '--results', result_dir]) == 2
    assert f'no result for sequence {name}' in capsys.readouterr().err


def test_eval_tool_reports_a_missing_dataset(tmp_path, capsys):
    assert _tool('eval_tracking').main(['--format', 'got10k', '--data', str(tmp_path),
                                        '--results', str(tmp_path)]) == 2
    assert 'GOT-10k val folder not found' in capsys.readouterr().err


def _read_video(path):
    capture = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(frame)


@pytest.mark.parametrize('source', ['folder', 'video'])
def test_track_demo_draws_the_box_on_every_frame(tiny, tmp_path, source):
    root, truth, checkpoint, _ = tiny
    name = next(iter(truth))
    folder = root / 'data' / 'val' / name
    frames = sorted(folder.glob('*.jpg'))
    if source == 'video':  # the same frames as a video file (lossless codec)
        first = cv2.imread(str(frames[0]))
        path = str(tmp_path / 'input.avi')
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'FFV1'), 25,
                                 (first.shape[1], first.shape[0]))
        for frame in frames:
            writer.write(cv2.imread(str(frame)))
        writer.release()
    else:
        path = str(folder)
    out = str(tmp_path / 'demo.mp4')
    x, y, w, h = truth[name][0][0]
    assert _tool('track_demo').main([CPU_CONFIG, checkpoint, path,
                                     '--init', f'{x},{y},{w},{h}', '--out', out]) == 0
    written = _read_video(out)
    assert len(written) == len(frames) == 4
    # frame 0 shows the given box: its top edge is drawn in green over the image
    top = written[0][int(round(y)), int(round(x)) + 2:int(round(x + w)) - 2].astype(int)
    blue, green, red = top.mean(0)
    assert green > 150 and green > blue + 60 and green > red + 60, top.mean(0)


def test_export_tool_writes_both_tracker_graphs(tmp_path, capsys):
    pytest.importorskip('onnxruntime')
    out = tmp_path / 'onnx'
    assert _tool('export_onnx').main([CPU_CONFIG, '--out', str(out)]) == 0
    report = capsys.readouterr().out
    assert (out / 'template_branch.onnx').is_file() and (out / 'search_branch.onnx').is_file()
    error = float(report.rsplit('max absolute error', 1)[1])
    assert error <= 1e-4


def test_compare_trackers_prints_one_table(tiny, tmp_path, capsys):
    _, _, checkpoint, config = tiny
    assert _tool('compare_trackers').main([config, checkpoint, '--work-dir',
                                           str(tmp_path / 'cmp'), '--backends',
                                           'onnxruntime', 'openvino/int8', '--calib', '4']) == 0
    table = capsys.readouterr().out
    for row in ('(eager)', '(ONNX Runtime)', 'static box', 'NCC template matching',
                '| onnxruntime | fp32 |', '| openvino | int8 |'):
        assert row in table
    # the INT8 graphs track the held-out sequences too (AO is read from their result files)
    (int8_row, ) = [line for line in table.splitlines() if '(openvino int8)' in line]
    assert 0 <= float(int8_row.split('|')[2]) <= 1
    assert osp.isfile(str(tmp_path / 'cmp' / 'onnx' / 'search_branch_int8.xml'))


def test_quantize_tool_writes_both_int8_tracker_graphs(tiny, tmp_path, capsys):
    _, _, checkpoint, config = tiny
    out = tmp_path / 'int8'
    assert _tool('quantize').main([config, checkpoint, '--backend', 'onnxruntime',
                                   '--calib', '4', '--out', str(out)]) == 0
    report = capsys.readouterr().out
    assert (out / 'template_branch_int8.onnx').is_file()
    assert (out / 'search_branch_int8.onnx').is_file()
    assert '4 training pairs' in report
    info = json.loads((out / 'quantization.json').read_text())
    assert info['precision'] == 'int8' and info['backend'] == 'onnxruntime'
    assert info['max_abs_error'] < 0.5


def test_train_tool_names_a_missing_tracking_dataset(tmp_path, capsys):
    config = osp.join(REPO_ROOT, 'configs/tracking/lowformer-track_b15_got10k-lasot-coco.py')
    assert _tool('train').main([config, '--work-dir', str(tmp_path), '--cfg-options',
                                f'train_dataloader.dataset.sources.0.root={tmp_path}']) == 2
    assert 'LaSOT' in capsys.readouterr().err


def test_data_root_moves_every_tracking_dataset(tmp_path, capsys):
    from mmlow.runner import load_config
    config = osp.join(REPO_ROOT, 'configs/tracking/lowformer-track_b15_got10k-lasot-coco.py')
    cfg = load_config(config, {'data_root': str(tmp_path)})
    assert [source.root for source in cfg.train_dataloader.dataset.sources] == [
        osp.join(str(tmp_path), name) for name in ('lasot', 'got10k', 'coco')]
    assert cfg.tracking_test.reader.root == osp.join(str(tmp_path), 'got10k')
    assert _tool('train').main([config, '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                                f'data_root={tmp_path}']) == 2
    assert str(tmp_path / 'lasot') in capsys.readouterr().err


def test_training_pairs_cropped_otherwise_than_the_tracker_are_refused(tmp_path, capsys):
    assert _tool('train').main([CPU_CONFIG, '--work-dir', str(tmp_path), '--cfg-options',
                                'model.search_size=160']) == 2
    (line, ) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith('error:') and \
        'model.search_size=160 but train_dataloader.dataset.search_size=128' in line


def test_tracker_speed_on_backends_checks_outputs():
    from mmlow.benchmark.tracking import benchmark_tracker
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CPU_CONFIG).model)
    for backend in ('cpu', 'onnxruntime'):
        record = benchmark_tracker(model, backend, iters=3, warmup=1)
        assert record['max_error'] < 1e-3 and record['fps'] > 0
        assert record['search_median_ms'] <= record['search_p90_ms']


def test_benchmark_tool_times_the_per_frame_step(capsys):
    assert _tool('benchmark').main([CPU_CONFIG, '--backend', 'onnxruntime', '--iters', '2',
                                    '--warmup', '1']) == 0
    row = capsys.readouterr().out.splitlines()[-1]
    assert '| tracking | onnxruntime | fp32 | 128x128 | 1 |' in row


def test_a_checkpoint_of_another_preset_is_refused(tiny, capsys):
    _, _, checkpoint, _ = tiny
    other = osp.join(REPO_ROOT, 'configs/tracking/lowformer-track_b1_got10k-lasot-coco.py')
    assert _tool('test').main([other, checkpoint]) == 2
    (line, ) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith('error:') and 'does not fit the model of this config' in line


def test_train_tool_trains_a_tracking_config_and_test_tool_reads_its_work_dir(tiny, tmp_path,
                                                                              capsys):
    root, truth, _, _ = tiny
    config = tmp_path / 'tiny_train.py'
    config.write_text(
        f"_base_ = ['{CPU_CONFIG}']\n"
        f"fake = dict(type='GOT10kReader', root='{root / 'data'}', subset='val')\n"
        # the fake sequences are 4 frames long, shorter than real videos must be
        "train_dataloader = dict(batch_size=2, dataset=dict(sources=[fake], min_frames=4,\n"
        "                                                   min_visible_frames=2))\n"
        "tracking_test = dict(reader=dict(fake, _delete_=True))\n"
        "train_cfg = dict(max_iters=2)\n"
        "default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))\n")
    work_dir = str(tmp_path / 'work')
    assert _tool('train').main([str(config), '--work-dir', work_dir]) == 0
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))
    assert _tool('test').main([str(config), work_dir, '--work-dir', work_dir]) == 0
    assert 'AO' in capsys.readouterr().out
    name = next(iter(truth))
    assert osp.isfile(osp.join(work_dir, 'results', name, f'{name}_001.txt'))


def test_the_inference_api_tracks_as_the_test_tool_does(tiny, tmp_path):
    """init_model + inference_tracker, as a user calls them, give the test tool's boxes."""
    from mmlow.apis import inference_tracker, init_model
    from mmlow.datasets.tracking import GOT10kReader
    root, truth, checkpoint, config = tiny
    result_dir = tmp_path / 'results'
    assert _tool('test').main([config, checkpoint, '--out', str(result_dir),
                               '--work-dir', str(tmp_path / 'wd')]) == 0
    model = init_model(config, checkpoint)
    for sequence in GOT10kReader(str(root / 'data'), 'val'):
        boxes, times = inference_tracker(model, sequence.frames, sequence.boxes[0])
        written = np.loadtxt(result_dir / sequence.name / f'{sequence.name}_001.txt',
                             delimiter=',')
        np.testing.assert_allclose(boxes, written, atol=1e-3)  # the file keeps 3 decimals
        assert len(times) == len(sequence.frames)
