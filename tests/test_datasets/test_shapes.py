import errno
import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

from mmlow.datasets import shapes
from mmlow.errors import GeneratedDataError
from mmlow.datasets.shapes import CLASSES, ensure_shapes, generate_shapes

PARAMS = dict(num_train=6, num_val=3, img_size=(96, 96), seed=0)


def _file_bytes(root: Path) -> dict:
    """Map every file under ``root`` (relative path) to its bytes."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob('*')) if path.is_file()
    }


@pytest.fixture(scope='module')
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('shapes') / 'data'
    generate_shapes(root, progress=False, **PARAMS)
    return root


def test_layout_and_meta(dataset):
    for split in ('train', 'val'):
        num = PARAMS[f'num_{split}']
        names = [f'{i:06d}.png' for i in range(num)]
        assert sorted(os.listdir(dataset / split)) == names
        assert sorted(os.listdir(dataset / 'semantic' / split)) == names
        assert (dataset / 'annotations' / f'instances_{split}.json').is_file()
    meta = json.loads((dataset / 'meta.json').read_text())
    assert meta['num_train'] == 6 and meta['num_val'] == 3
    assert meta['img_size'] == [96, 96] and meta['seed'] == 0
    assert meta['classes'] == list(CLASSES)
    assert 'format_version' in meta


def test_deterministic(tmp_path, dataset):
    again = generate_shapes(tmp_path / 'again', progress=False, **PARAMS)
    assert _file_bytes(Path(again)) == _file_bytes(dataset)

    other_seed = dict(PARAMS, seed=1)
    other = generate_shapes(tmp_path / 'other', progress=False, **other_seed)
    assert (Path(other) / 'train' / '000000.png').read_bytes() != (
        dataset / 'train' / '000000.png').read_bytes()


def test_images_differ_between_splits(dataset):
    train = cv2.imread(str(dataset / 'train' / '000000.png'))
    val = cv2.imread(str(dataset / 'val' / '000000.png'))
    assert not np.array_equal(train, val)


@pytest.mark.parametrize('split', ['train', 'val'])
def test_coco_annotations(dataset, split):
    coco = COCO(str(dataset / 'annotations' / f'instances_{split}.json'))
    assert sorted(cat['name'] for cat in coco.dataset['categories']) == \
        sorted(CLASSES)
    assert sorted(coco.getCatIds()) == [1, 2, 3]
    assert len(coco.getImgIds()) == PARAMS[f'num_{split}']

    for img_id in coco.getImgIds():
        info = coco.imgs[img_id]
        image = cv2.imread(str(dataset / split / info['file_name']))
        assert image.shape == (info['height'], info['width'], 3)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[img_id]))
        assert 1 <= len(anns) <= 4

        for ann in anns:
            assert ann['category_id'] in (1, 2, 3)
            assert ann['iscrowd'] == 0
            assert ann['area'] > 0
            x, y, w, h = ann['bbox']
            assert w > 0 and h > 0
            assert x >= 0 and y >= 0
            assert x + w <= info['width'] and y + h <= info['height']

            assert ann['segmentation']
            assert all(
                len(poly) >= 6 and len(poly) % 2 == 0
                for poly in ann['segmentation'])
            mask = coco.annToMask(ann).astype(bool)
            ys, xs = np.nonzero(mask)
            mask_box = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
            np.testing.assert_allclose(
                mask_box, [x, y, x + w, y + h], atol=1)
            # The polygons are traced so that they rasterise back to the
            # visible mask that ``area`` was counted from.
            assert abs(int(mask.sum()) - ann['area']) <= 0.02 * ann['area']


@pytest.mark.parametrize('split', ['train', 'val'])
def test_semantic_maps_match_instances(dataset, split):
    coco = COCO(str(dataset / 'annotations' / f'instances_{split}.json'))
    for img_id in coco.getImgIds():
        info = coco.imgs[img_id]
        semantic = cv2.imread(
            str(dataset / 'semantic' / split / info['file_name']),
            cv2.IMREAD_UNCHANGED)
        assert semantic.dtype == np.uint8
        assert semantic.shape == (info['height'], info['width'])
        assert set(np.unique(semantic)) <= {0, 1, 2, 3}

        covered = np.zeros(semantic.shape, dtype=bool)
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=[img_id])):
            mask = coco.annToMask(ann).astype(bool)
            agree = (semantic[mask] == ann['category_id']).mean()
            assert agree > 0.98
            # Occluded parts belong only to the shape drawn on top.
            assert (covered & mask).sum() <= 0.005 * mask.sum()
            covered |= mask
        foreground = semantic > 0
        assert covered[foreground].mean() > 0.98
        assert covered[~foreground].mean() < 0.01


def test_no_tmp_dir_left(tmp_path):
    generate_shapes(tmp_path / 'data', progress=False, **PARAMS)
    assert os.listdir(tmp_path) == ['data']


def test_generate_refuses_existing_root(tmp_path):
    (tmp_path / 'data').mkdir()
    (tmp_path / 'data' / 'notes.txt').write_text('not generated')
    with pytest.raises(FileExistsError):
        generate_shapes(tmp_path / 'data', progress=False, **PARAMS)


def test_lost_rename_race_keeps_winner(tmp_path, monkeypatch):
    """If another process renames its copy first, ours is discarded."""
    real_rename = os.rename

    def rename_after_winner(src, dst):
        shutil.copytree(src, dst)
        real_rename(src, dst)

    monkeypatch.setattr(shapes.os, 'rename', rename_after_winner)
    root = generate_shapes(tmp_path / 'data', progress=False, **PARAMS)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ['data']
    assert (Path(root) / 'meta.json').is_file()


def test_rename_errors_other_than_race_propagate(tmp_path, monkeypatch):

    def failing_rename(src, dst):
        raise OSError(errno.EACCES, 'denied')

    monkeypatch.setattr(shapes.os, 'rename', failing_rename)
    with pytest.raises(OSError):
        generate_shapes(tmp_path / 'data', progress=False, **PARAMS)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


def test_ensure_shapes_is_idempotent(tmp_path):
    root = tmp_path / 'data'
    assert ensure_shapes(root, progress=False, **PARAMS) == str(root)
    files = [root / 'meta.json', root / 'train' / '000000.png']
    mtimes = [f.stat().st_mtime_ns for f in files]
    before = _file_bytes(root)

    assert ensure_shapes(root, progress=False, **PARAMS) == str(root)
    assert [f.stat().st_mtime_ns for f in files] == mtimes
    assert _file_bytes(root) == before


def test_ensure_shapes_rejects_other_params(dataset):
    meta_before = (dataset / 'meta.json').read_bytes()
    with pytest.raises(GeneratedDataError, match='[Dd]elete the folder'):
        ensure_shapes(dataset, progress=False, **dict(PARAMS, seed=1))
    with pytest.raises(RuntimeError, match='num_train'):
        ensure_shapes(dataset, progress=False, **dict(PARAMS, num_train=7))
    assert (dataset / 'meta.json').read_bytes() == meta_before


def test_an_empty_folder_is_generated_into(tmp_path):
    root = tmp_path / 'data'
    root.mkdir()
    assert ensure_shapes(root, progress=False, **PARAMS) == str(root)
    assert (root / 'meta.json').is_file()


def test_the_train_tool_names_a_shapes_folder_made_otherwise(dataset, tmp_path, capsys):
    from tests.tiny_configs import tiny_shapes_cfg
    from tools.train import main as train_main
    config = os.path.join(os.path.dirname(__file__), '..', '..',
                          'configs/detection/retinanet_lowformer_b1_shapes.py')
    cfg = tiny_shapes_cfg(config, str(dataset), str(tmp_path / 'work'), num_train=5, num_val=2)
    cfg.dump(str(tmp_path / 'other.py'))
    assert train_main([str(tmp_path / 'other.py')]) == 2
    (line, ) = [line for line in capsys.readouterr().err.splitlines()
                if line.startswith('error:')]
    assert 'generated with different parameters' in line and 'num_train' in line


def test_ensure_shapes_rejects_incomplete_root(tmp_path):
    root = tmp_path / 'data'
    (root / 'train').mkdir(parents=True)
    with pytest.raises(RuntimeError, match='[Dd]elete the folder'):
        ensure_shapes(root, progress=False, **PARAMS)
    assert os.listdir(root) == ['train']
