"""A run SIGKILLed at several points (during a checkpoint save, mid-epoch, before its final
validation) and resumed each time ends with the same weights, bit for bit, as a run that was
never interrupted, with the default loader settings (a persistent data worker), and validates;
so does an iteration-based run, which replays its data on resume. Both train with drop path,
which draws at random in every iteration. Work dirs resume wherever they are copied or moved
to."""
import glob
import os
import shutil
import signal
import subprocess
import sys

import pytest
import torch

from mmlow.runner import latest_checkpoint, remove_orphaned_temporaries
from mmlow.errors import CheckpointError
from tests.conftest import REPO_ROOT
from tests.tiny_configs import tiny_shapes_cfg

CONFIG = os.path.join(REPO_ROOT, 'configs/detection/retinanet_efficientvit_m4_shapes.py')
ITERATION_CONFIG = os.path.join(REPO_ROOT, 'configs/segmentation/fpn_efficientvit_m4_shapes.py')


def _train(config, work_dir, kill_at='never', resume=False):
    command = [sys.executable, '-m', 'tests.test_engine.kill_driver', kill_at, '--', config,
               '--work-dir', str(work_dir)] + (['--resume'] if resume else [])
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=600)
    expected = -signal.SIGKILL if kill_at != 'never' else 0
    assert result.returncode == expected, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def _assert_same_weights(reference, resumed):
    reference, resumed = (torch.load(path, map_location='cpu', weights_only=True)['state_dict']
                          for path in (reference, resumed))
    assert reference.keys() == resumed.keys()
    different = [k for k in reference if not torch.equal(reference[k], resumed[k])]
    assert not different, f'{len(different)} tensors differ, e.g. {different[:3]}'


def test_killed_and_resumed_run_equals_an_uninterrupted_one(tmp_path):
    # two images per batch: EfficientViT's squeeze-excitation BN cannot train on one
    cfg = tiny_shapes_cfg(CONFIG, str(tmp_path / 'shapes'), '', num_train=4, num_val=1,
                          batch_size=2)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        # mmdet's defaults, which tiny_shapes_cfg turns off for speed elsewhere
        cfg[loader].update(num_workers=1, persistent_workers=True)
    cfg.train_cfg.update(max_epochs=2, val_interval=2)
    cfg.model.backbone.drop_path_rate = 0.2
    cfg.randomness = dict(seed=0, deterministic=True)
    config = str(tmp_path / 'tiny.py')
    cfg.dump(config)

    reference = tmp_path / 'uninterrupted'
    _train(config, reference)

    killed = tmp_path / 'killed'
    _train(config, killed, 'save:epoch_1.pth')
    assert glob.glob(str(killed / 'epoch_1.pth.tmp-*')) and not (killed / 'epoch_1.pth').exists()
    # nothing saved yet: starts over, removes the killed save's temporary, dies in epoch 2
    _train(config, killed, 'iter:3', resume=True)
    assert not glob.glob(str(killed / '*.tmp-*'))
    _train(config, killed, 'val', resume=True)  # after the last checkpoint

    # a copy resumes from its own files, even when the original's are gone or broken
    copy = tmp_path / 'copy'
    shutil.copytree(killed, copy)
    (killed / 'epoch_2.pth').write_bytes(b'')
    log = _train(config, copy, resume=True)
    assert 'coco/bbox_mAP' in log  # the final validation the kill prevented
    _assert_same_weights(reference / 'epoch_2.pth', copy / 'epoch_2.pth')


def test_killed_and_resumed_iteration_based_run_equals_an_uninterrupted_one(tmp_path):
    cfg = tiny_shapes_cfg(ITERATION_CONFIG, str(tmp_path / 'shapes'), '', num_train=4,
                          num_val=1, batch_size=2, iterations=4)
    # no data workers: the replayed samples are augmented in this process (random flips)
    cfg.default_hooks.checkpoint.update(interval=2, max_keep_ckpts=2)
    cfg.model.backbone.drop_path_rate = 0.2
    cfg.randomness = dict(seed=0, deterministic=True)
    config = str(tmp_path / 'tiny.py')
    cfg.dump(config)

    reference, killed = tmp_path / 'uninterrupted', tmp_path / 'killed'
    _train(config, reference)
    _train(config, killed, 'iter:3')  # after the checkpoint of iteration 2
    log = _train(config, killed, resume=True)
    assert 'Advance dataloader 2 steps' in log and 'mIoU' in log
    _assert_same_weights(reference / 'iter_4.pth', killed / 'iter_4.pth')


def test_work_dirs_are_relocatable(tmp_path):
    original = tmp_path / 'run'
    original.mkdir()
    (original / 'epoch_1.pth').write_bytes(b'1')
    (original / 'last_checkpoint').write_text(str(original / 'epoch_1.pth'))
    copied = tmp_path / 'copied'
    shutil.copytree(original, copied)
    assert latest_checkpoint(str(copied)) == str(copied / 'epoch_1.pth')
    moved = tmp_path / 'moved'
    original.rename(moved)
    assert latest_checkpoint(str(moved)) == str(moved / 'epoch_1.pth')
    (moved / 'epoch_1.pth').unlink()
    with pytest.raises(CheckpointError, match='pass the .pth file'):
        latest_checkpoint(str(moved))
    assert latest_checkpoint(str(tmp_path)) is None


def test_only_temporaries_of_dead_writers_are_removed(tmp_path):
    finished = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                              capture_output=True, text=True, check=True)
    dead = tmp_path / f'epoch_3.pth.tmp-{finished.stdout.strip()}'
    alive = tmp_path / f'epoch_4.pth.tmp-{os.getpid()}'
    for path in (dead, alive):
        path.write_bytes(b'partial')
    assert remove_orphaned_temporaries(str(tmp_path)) == [str(dead)]
    assert alive.exists() and not dead.exists()
