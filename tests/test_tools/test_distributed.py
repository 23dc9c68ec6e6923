"""tools/dist_train.sh with two gloo processes against one process; the Slurm wrappers."""
import json
import os
import socket
import subprocess
import sys

import pytest

from tests.tiny_configs import tiny_shapes_cfg

CONFIG = 'configs/detection/retinanet_lowformer_b1_shapes.py'
TOTAL_BATCH = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _train_log(work_dir):
    (run, ) = [d for d in os.listdir(work_dir) if os.path.isdir(os.path.join(work_dir, d))]
    with open(os.path.join(work_dir, run, 'vis_data', 'scalars.json')) as f:
        entries = [json.loads(line) for line in f]
    return {e['step']: e for e in entries if 'loss' in e}


def test_two_processes_follow_the_single_process_curve(tmp_path, repo_root):
    cfg = tiny_shapes_cfg(os.path.join(repo_root, CONFIG), str(tmp_path / 'shapes'),
                          str(tmp_path / 'unused'), num_train=8, batch_size=TOTAL_BATCH)
    # the same images in the same order either way: no random flips, one seed; the sampler
    # deals each shuffled batch of 4 out as 2 + 2 to the two processes
    cfg.train_dataloader.dataset.pipeline = [
        t for t in cfg.train_dataloader.dataset.pipeline if t['type'] != 'RandomFlip']
    cfg.train_cfg.max_epochs = 2
    cfg.randomness = dict(seed=0)
    config = str(tmp_path / 'tiny_dist.py')
    cfg.dump(config)
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()), OMP_NUM_THREADS='1')

    single = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir', str(tmp_path / 'one')],
        cwd=repo_root, env=env, capture_output=True, text=True)
    assert single.returncode == 0, single.stderr[-3000:]
    double = subprocess.run(
        ['bash', 'tools/dist_train.sh', config, '2', '--work-dir', str(tmp_path / 'two'),
         '--cfg-options', f'train_dataloader.batch_size={TOTAL_BATCH // 2}'],
        cwd=repo_root, env=env, capture_output=True, text=True)
    assert double.returncode == 0, double.stderr[-3000:]

    one, two = _train_log(tmp_path / 'one'), _train_log(tmp_path / 'two')
    assert sorted(one) == sorted(two) == [1, 2, 3, 4]
    # grad_norm is taken after DDP averaged the gradients: it sees both processes' images.
    # What differs is BatchNorm (statistics of 2 images per process instead of 4) and the
    # loss normalisers (positive anchors per process): noise of a few per cent.
    for step in one:
        assert two[step]['grad_norm'] == pytest.approx(one[step]['grad_norm'], rel=0.15)
    # the logged loss is rank 0's share of the batch; the curve agrees on average
    mean_one = sum(e['loss'] for e in one.values()) / len(one)
    mean_two = sum(e['loss'] for e in two.values()) / len(two)
    assert mean_two == pytest.approx(mean_one, rel=0.15)


@pytest.fixture
def fake_srun(tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    record = tmp_path / 'srun_args'
    srun = bin_dir / 'srun'
    srun.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" > {record}\n')
    srun.chmod(0o755)
    env = dict(os.environ, PATH=f'{bin_dir}:{os.environ["PATH"]}', GPUS='16',
               PYTHON=sys.executable)
    return env, record


@pytest.mark.parametrize('script, tool, extra', [
    ('slurm_train.sh', 'train.py', ['--work-dir', 'work_dirs/x', '--amp']),
    ('slurm_test.sh', 'test.py', ['work_dirs/x', '--amp']),
])
def test_slurm_scripts_launch_one_task_per_gpu(script, tool, extra, fake_srun, repo_root):
    env, record = fake_srun
    result = subprocess.run(['bash', f'tools/{script}', 'partition', 'job', 'cfg.py',
                             'work_dirs/x', '--amp'],
                            cwd=repo_root, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    args = record.read_text().splitlines()
    assert args[:2] == ['-p', 'partition']
    assert {'--job-name=job', '--ntasks=16', '--ntasks-per-node=8', '--gres=gpu:8'} <= set(args)
    command = args[args.index(sys.executable):]
    assert command[2].endswith(f'tools/{tool}')
    assert command[3:] == ['cfg.py'] + extra + ['--launcher', 'slurm']


def test_slurm_script_usage_error(repo_root):
    result = subprocess.run(['bash', 'tools/slurm_train.sh', 'partition'], cwd=repo_root,
                            capture_output=True, text=True)
    assert result.returncode == 2 and 'usage:' in result.stderr
