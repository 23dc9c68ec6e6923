"""tools/check_data.py lists every bad file of a config's datasets in one report."""
import os
import os.path as osp

import cv2
import pytest

from tests.conftest import REPO_ROOT
from tests.test_tools.test_tracking_tools import _tool
from tests.tiny_configs import tiny_shapes_cfg
from tests.tracking_fakes import make_got10k

DETECTION = osp.join(REPO_ROOT, 'configs/detection/retinanet_lowformer_b1_shapes.py')
TRACKING = osp.join(REPO_ROOT, 'configs/tracking/lowformer-track_cpu_synthetic.py')


@pytest.fixture
def shapes_config(tmp_path):
    cfg = tiny_shapes_cfg(DETECTION, str(tmp_path / 'shapes'), str(tmp_path / 'work'),
                          num_train=6, num_val=3)
    path = str(tmp_path / 'tiny.py')
    cfg.dump(path)
    return path, tmp_path / 'shapes'


def test_a_clean_dataset_passes(shapes_config, capsys):
    config, _ = shapes_config
    assert _tool('check_data').main([config]) == 0
    out = capsys.readouterr().out
    assert 'train: 6 files read, 0 bad' in out and 'all files are usable' in out


def test_every_bad_file_is_reported_together(shapes_config, tmp_path, capsys):
    config, root = shapes_config
    assert _tool('check_data').main([config]) == 0  # generates the images
    train = sorted(os.listdir(root / 'train'))
    (root / 'train' / train[1]).write_bytes(b'not an image')
    os.remove(root / 'train' / train[3])
    image = cv2.imread(str(root / 'train' / train[4]))
    cv2.imwrite(str(root / 'train' / train[4]), cv2.resize(image, (32, 32)))
    val = sorted(os.listdir(root / 'val'))
    (root / 'val' / val[0]).write_bytes(b'')
    capsys.readouterr()

    report_file = tmp_path / 'report.txt'
    assert _tool('check_data').main([config, '--out', str(report_file)]) == 2
    out = capsys.readouterr().out
    assert 'train: 6 files read, 3 bad' in out
    assert f'{root / "train" / train[1]}: cannot be decoded' in out
    assert f'{root / "train" / train[3]}: does not exist' in out
    assert f'{root / "train" / train[4]}: is 32x32 but its annotations say 64x64' in out
    assert f'{root / "val" / val[0]}: is empty' in out  # and under test, which reads val
    assert 'test: 3 files read, 1 bad' in out
    assert out.strip().endswith(report_file.read_text().strip())

    assert _tool('check_data').main([config, '--splits', 'val']) == 2
    out = capsys.readouterr().out
    assert 'train:' not in out and 'val: 3 files read, 1 bad' in out


def test_an_unreadable_annotation_file_is_reported(shapes_config, capsys):
    config, root = shapes_config
    assert _tool('check_data').main([config]) == 0
    (root / 'annotations' / 'instances_val.json').write_text('{"images": [')
    capsys.readouterr()
    assert _tool('check_data').main([config]) == 2
    out = capsys.readouterr().out
    assert 'val: the dataset cannot be read: annotation file' in out
    assert 'instances_val.json is not valid JSON' in out
    assert 'train: 6 files read, 0 bad' in out  # the other splits are still read


def test_every_frame_of_tracking_training_and_test_sequences_is_read(tmp_path, capsys):
    make_got10k(str(tmp_path / 'data'), 'val', num_sequences=2, num_frames=6, size=(96, 80))
    frame = sorted((tmp_path / 'data' / 'val').glob('*/00000003.jpg'))[0]
    frame.write_bytes(frame.read_bytes()[:200])
    config = tmp_path / 'tracking.py'
    config.write_text(f"_base_ = ['{TRACKING}']\n"
                      f"train_dataloader = dict(dataset=dict(min_frames=2, min_visible_frames=1, sources=["
                      f"dict(type='GOT10kReader', root='{tmp_path / 'data'}', subset='val')]))\n"
                      f"tracking_test = dict(reader=dict(_delete_=True, type='GOT10kReader', "
                      f"root='{tmp_path / 'data'}', subset='val'), format='got10k')\n")
    assert _tool('check_data').main([str(config)]) == 2
    out = capsys.readouterr().out
    assert 'train: 12 files read, 1 bad' in out and 'test: 12 files read, 1 bad' in out
    assert f'{frame}: ' in out
