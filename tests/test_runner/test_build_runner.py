"""Runners that mmlow.apis builds one after another in a process keep their logs apart."""
import os

from mmlow.runner import build_runner
from tests.tiny_configs import tiny_shapes_cfg


def test_second_runner_in_a_process_writes_into_its_own_work_dir(tmp_path, repo_root):
    runners = []
    for name in ('retinanet_lowformer_b1_shapes.py', 'retinanet_efficientvit_m4_shapes.py'):
        cfg = tiny_shapes_cfg(os.path.join(repo_root, 'configs/detection', name),
                              str(tmp_path / 'shapes'), str(tmp_path / name))
        runners.append(build_runner(cfg))
    first, second = runners
    assert first.visualizer is not second.visualizer
    for runner in runners:
        (backend, ) = runner.visualizer._vis_backends.values()
        assert backend._save_dir.startswith(runner.log_dir)
