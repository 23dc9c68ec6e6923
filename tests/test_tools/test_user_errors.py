"""Mistakes in the input end in one ``error:`` line with exit status 2 (traceback only with
--debug), and a checkpoint that does not fit the model is refused naming what it was made for."""
import os
import pickle

import pytest
import torch

from mmlow.errors import CheckpointError, ConfigError, UserError
from tests.conftest import REPO_ROOT
from tests.tiny_configs import tiny_shapes_cfg, untrained_checkpoint
from tools.test import main as run_test_tool
from tools.train import main as train_main

RETINANET_B1 = os.path.join(REPO_ROOT, 'configs/detection/retinanet_lowformer_b1_shapes.py')
RETINANET_M4 = os.path.join(REPO_ROOT, 'configs/detection/retinanet_efficientvit_m4_shapes.py')


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('data') / 'shapes')


def _tiny_config(config, shapes_root, tmp_path, name='tiny.py', **backbone):
    path = str(tmp_path / name)
    cfg = tiny_shapes_cfg(config, shapes_root, str(tmp_path / 'work'), num_train=2, num_val=1,
                          batch_size=2)
    cfg.model.backbone.update(backbone)
    cfg.dump(path)
    return path


def _one_error_line(capsys, *fragments):
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith('error: ')]
    assert len(lines) == 1, err
    assert 'Traceback' not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize('option, fragments', [
    ('model.backbone.arch=b9', ("unknown LowFormer arch 'b9'", 'choose one of')),
    ('model.backbone.out_indices=(1,2,5)', ('out_indices (1, 2, 5)', 'must lie in')),
    # valid for the backbone, not for the neck: its channels would mismatch at the first step
    ('model.backbone.out_indices=(0,1,2)',
     ('the neck takes 3 maps of [64, 128, 256] channels', 'gives 3 of [32, 64, 128]',
      'model.neck.in_channels=[32, 64, 128]')),
])
def test_bad_config_values(option, fragments, shapes_root, tmp_path, capsys):
    config = _tiny_config(RETINANET_B1, shapes_root, tmp_path)
    assert train_main([config, '--cfg-options', option]) == 2
    line = _one_error_line(capsys, *fragments)
    assert 'class `' not in line  # mmengine's registry prefixes are stripped
    with pytest.raises(ConfigError):
        train_main([config, '--cfg-options', option, '--debug'])


def test_mismatched_pretrained(shapes_root, tmp_path, capsys):
    b0 = untrained_checkpoint(RETINANET_B1, tmp_path / 'b0.pth', arch='b0')
    config = _tiny_config(RETINANET_B1, shapes_root, tmp_path, init_cfg=dict(
        type='Pretrained', checkpoint=b0, prefix='backbone.'))
    assert train_main([config]) == 2
    _one_error_line(capsys, 'b0.pth', 'does not fit LowFormer')


def test_cfg_options_that_cannot_merge(shapes_root, tmp_path, capsys):
    config = _tiny_config(RETINANET_B1, shapes_root, tmp_path)
    assert train_main([config, '--cfg-options', 'model.backbone.init_cfg.type=Pretrained']) == 2
    _one_error_line(capsys, '--cfg-options cannot be applied', '_delete_=True')


def test_test_tool_refuses_a_checkpoint_of_another_arch(shapes_root, tmp_path, capsys):
    config = _tiny_config(RETINANET_B1, shapes_root, tmp_path)
    b1 = untrained_checkpoint(RETINANET_B1, tmp_path / 'b1.pth')
    assert run_test_tool([config, b1, '--cfg-options', 'model.backbone.arch=b0']) == 2
    _one_error_line(capsys, 'b1.pth', 'unexpected: backbone.stages.2.4.', 'mis-shaped: ',
                    '(checkpoint (32, 96, 1, 1), model (32, 64, 1, 1))',
                    '(backbone lowformer_b0)', 'made for lowformer_b1', '--strict false')

    m4_config = _tiny_config(RETINANET_M4, shapes_root, tmp_path, 'm4.py')
    assert run_test_tool([m4_config, b1]) == 2
    _one_error_line(capsys, 'missing: backbone.', 'unexpected: backbone.',
                    '(backbone efficientvit_m4)', 'made for lowformer_b1')

    # knowingly: the matching weights load, a warning names the mismatch
    assert run_test_tool([config, b1, '--cfg-options', 'model.backbone.arch=b0',
                      '--strict', 'false']) == 0
    assert 'made for lowformer_b1' in capsys.readouterr().out


def test_resume_errors(shapes_root, tmp_path, capsys):
    config = _tiny_config(RETINANET_B1, shapes_root, tmp_path)
    assert train_main([config, '--resume', str(tmp_path / 'nowhere.pth')]) == 2
    _one_error_line(capsys, 'nowhere.pth', 'does not exist')

    b0 = untrained_checkpoint(RETINANET_B1, tmp_path / 'b0.pth', arch='b0')
    assert train_main([config, '--resume', b0]) == 2
    _one_error_line(capsys, 'made for lowformer_b0', '(backbone lowformer_b1)')

    unsafe = tmp_path / 'unsafe.pth'
    torch.save({'state_dict': {}, 'hook': os.system}, unsafe)
    assert train_main([config, '--resume', str(unsafe)]) == 2
    line = _one_error_line(capsys, 'unsafe.pth', 'weights-only', 'unpickle posix.system',
                           'never unpickles')
    assert 'weights_only=False' not in line and 'weights_only` set to `False' not in line
    assert run_test_tool([config, str(unsafe)]) == 2
    _one_error_line(capsys, 'never unpickles')
    with pytest.raises(CheckpointError):
        run_test_tool([config, str(unsafe), '--debug'])


def test_out_must_be_a_pickle(shapes_root, tmp_path, capsys):
    config = _tiny_config(RETINANET_B1, shapes_root, tmp_path)
    assert run_test_tool([config, str(tmp_path / 'any.pth'), '--out', 'preds.json']) == 2
    _one_error_line(capsys, '--out preds.json', '.pkl', '--metrics-out')


def test_amp_on_cpu_trains_in_bfloat16(shapes_root, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    seen = []
    real_autocast = torch.autocast

    def recording_autocast(device_type, dtype=None, **kwargs):
        seen.append((device_type, dtype))
        return real_autocast(device_type, dtype=dtype, **kwargs)
    monkeypatch.setattr(torch, 'autocast', recording_autocast)
    config = _tiny_config(RETINANET_M4, shapes_root, tmp_path)
    assert train_main([config, '--amp']) == 0
    assert ('cpu', torch.bfloat16) in seen


def test_user_errors_are_also_the_builtin_types():
    assert issubclass(ConfigError, ValueError) and issubclass(ConfigError, UserError)
    assert issubclass(CheckpointError, ValueError)


TRACKER = os.path.join(REPO_ROOT, 'configs/tracking/lowformer-track_cpu_synthetic.py')
RETRIEVER = os.path.join(REPO_ROOT, 'configs/retrieval/lowformer_b1_shapes.py')


def _tool_main(name):
    import importlib
    return importlib.import_module(f'tools.{name}').main


class _RunsCode:
    """Unpickling this runs a shell command (the attack a weights-only load must stop)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def _write_bad_checkpoint(path, content: str, marker) -> None:
    if content == 'random bytes':
        path.write_bytes(os.urandom(2048))
    elif content == 'raw pickle':  # the legacy format, not a zip
        path.write_bytes(pickle.dumps({'state_dict': {}, 'meta': _RunsCode(marker)}))
    elif content == 'malicious zip':  # torch.save's format, with code in its data.pkl
        torch.save({'state_dict': {}, 'meta': _RunsCode(marker)}, path)
    else:  # a sound checkpoint of another model
        torch.save({'state_dict': {'fc.weight': torch.zeros(3, 3), 'fc.bias': torch.zeros(3)}},
                   path)


@pytest.mark.parametrize('content', ['random bytes', 'raw pickle', 'malicious zip',
                                     'other model'])
@pytest.mark.parametrize('tool, args', [
    ('retrieve', lambda path, tmp: [RETRIEVER, path, '--query', 'q.png', '--gallery', str(tmp),
                                    '--out', str(tmp / 'r.png')]),
    ('benchmark', lambda path, tmp: [RETINANET_B1, path, '--backend', 'cpu', '--iters', '1',
                                     '--warmup', '0', '--shape', '64', '64']),
    ('track_demo', lambda path, tmp: [TRACKER, path, str(tmp), '--init', '1,1,8,8',
                                      '--out', str(tmp / 'd.mp4')]),
    ('test', lambda path, tmp: [TRACKER, path]),
    ('compare_trackers', lambda path, tmp: [TRACKER, path, '--work-dir', str(tmp / 'c')]),
    ('analysis.retrieval_baselines', lambda path, tmp: [RETRIEVER, path]),
    ('export_onnx', lambda path, tmp: [RETINANET_B1, path, '--out', str(tmp / 'm.onnx'),
                                       '--shape', '64', '64']),
])
def test_every_tool_that_loads_weights_refuses_a_bad_file_in_one_line(tool, args, content,
                                                                      tmp_path, capsys):
    """One loader for every tool (mmlow.checkpoint): weights-only, no code run, and never
    torch's advice to pass weights_only=False."""
    path, marker = tmp_path / 'bad.pth', tmp_path / 'code_ran'
    _write_bad_checkpoint(path, content, marker)
    assert _tool_main(tool)(args(str(path), tmp_path)) == 2
    if content == 'other model':
        _one_error_line(capsys, 'bad.pth', 'fc.weight')
        return
    line = _one_error_line(capsys, 'bad.pth', 'weights-only')
    assert 'weights_only=False' not in line and 'weights_only` set to `False' not in line
    assert not marker.exists()
    if content == 'malicious zip':
        assert 'unpickle posix.system' in line


def test_an_error_in_a_data_worker_is_one_line(capsys):
    """torch re-raises a worker's DataError with the worker's traceback as its message."""
    import sys
    from torch._utils import ExceptionWrapper

    from mmlow.runner import run_cli
    from mmlow.errors import DataError

    def load_in_a_worker():
        try:
            raise DataError('image /data/a.png is truncated or not an image (ValueError). '
                            'Replace the file')
        except DataError:
            wrapped = ExceptionWrapper(sys.exc_info(), where='in DataLoader worker process 1')
        wrapped.reraise()

    assert run_cli(load_in_a_worker) == 2
    err = capsys.readouterr().err
    assert err == ('error: image /data/a.png is truncated or not an image (ValueError). '
                   'Replace the file\n')


@pytest.mark.parametrize('args', [['--shape', '-128', '128'], ['--shape', '0', '128'],
                                  ['--batch', '0']])
def test_benchmark_sizes_must_be_positive(args, capsys):
    from tools.benchmark import main as benchmark_main
    with pytest.raises(SystemExit) as exited:
        benchmark_main([RETINANET_B1, '--backend', 'cpu', *args])
    assert exited.value.code == 2
    assert 'must be positive' in capsys.readouterr().err


def test_track_demo_refuses_a_box_outside_the_first_frame(tmp_path, capsys):
    import cv2
    import numpy as np
    from mmengine.config import Config

    from mmlow.registry import MODELS
    from tools.track_demo import main as demo_main
    checkpoint = str(tmp_path / 'tracker.pth')
    torch.save(dict(state_dict=MODELS.build(Config.fromfile(TRACKER).model).state_dict()),
               checkpoint)
    frames = tmp_path / 'frames'
    frames.mkdir()
    cv2.imwrite(str(frames / '0001.png'), np.zeros((60, 80, 3), np.uint8))
    out = tmp_path / 'demo.mp4'
    assert demo_main([TRACKER, checkpoint, str(frames), '--init', '5000,5000,40,30',
                      '--out', str(out)]) == 2
    _one_error_line(capsys, 'lies outside the first frame (80x60 px)')
    assert not out.exists()


def test_a_loader_without_workers_needs_no_persistent_workers(shapes_root, tmp_path):
    from mmengine.registry import DefaultScope

    from mmlow.engine import MMLowRunner
    cfg = tiny_shapes_cfg(RETINANET_B1, shapes_root, str(tmp_path / 'work'), num_train=2,
                          num_val=1)
    loader = dict(cfg.train_dataloader.to_dict(), num_workers=0, persistent_workers=True)
    with DefaultScope.overwrite_default_scope('mmdet'):
        assert len(MMLowRunner.build_dataloader(loader, seed=0)) == 1


def test_resuming_a_copied_work_dir_continues_in_the_copy(tmp_path):
    from tools.train import build_cfg, parse_args
    copy = str(tmp_path / 'copy')
    os.makedirs(copy)
    assert build_cfg(parse_args([RETINANET_B1, '--resume', copy])).work_dir == copy
    elsewhere = str(tmp_path / 'elsewhere')
    assert build_cfg(parse_args([RETINANET_B1, '--resume', copy, '--work-dir',
                                 elsewhere])).work_dir == elsewhere
