"""Bad data is named in one line: the file at fault and what to do, before or at the sample
that meets it; unreadable training images can be skipped and are counted."""
import json
import os
import shutil

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmlow.runner import check_data, load_config

from mmlow.runner import runs
from mmlow.datasets import generate_shapes, validation
from mmlow.errors import ConfigError, DataError, DataMissingError
from mmlow.registry import DATASETS
from tests.conftest import REPO_ROOT
from tests.tiny_configs import tiny_shapes_cfg
from tools.train import main as train_main

RETINANET = os.path.join(REPO_ROOT, 'configs/detection/retinanet_lowformer_b1_shapes.py')
RETINANET_M4 = os.path.join(REPO_ROOT, 'configs/detection/retinanet_efficientvit_m4_shapes.py')
FPN = os.path.join(REPO_ROOT, 'configs/segmentation/fpn_lowformer_b1_shapes.py')
GENERATOR = dict(num_train=4, num_val=2, img_size=(64, 64), size_range=(0.3, 0.6))


@pytest.fixture(scope='module')
def pristine(tmp_path_factory):
    root = tmp_path_factory.mktemp('pristine') / 'shapes'
    generate_shapes(root, progress=False, **GENERATOR)
    return root


@pytest.fixture
def shapes(pristine, tmp_path):
    root = tmp_path / 'shapes'
    shutil.copytree(pristine, root)
    return root


def _dataset(root, config=RETINANET, split='train_dataloader', **overrides):
    cfg = tiny_shapes_cfg(config, str(root), str(root.parent / 'work'), **{
        k: v for k, v in GENERATOR.items() if k in ('num_train', 'num_val')},
                          image_size=GENERATOR['img_size'])
    dataset = cfg[split].dataset
    dataset.update(overrides)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return DATASETS.build(dataset)


def test_annotation_file_without_images(shapes):
    ann_file = shapes / 'annotations' / 'instances_train.json'
    content = json.loads(ann_file.read_text())
    del content['images']
    ann_file.write_text(json.dumps(content))
    with pytest.raises(DataError, match=f'{ann_file} has no "images" list'):
        _dataset(shapes)


def test_invalid_json_is_named(shapes):
    ann_file = shapes / 'annotations' / 'instances_train.json'
    ann_file.write_text(ann_file.read_text()[:-20])
    with pytest.raises(DataError, match=f'annotation file {ann_file} is not valid JSON'):
        _dataset(shapes)


def _image(dataset, index=0):
    return dataset.get_data_info(index)['img_path']


@pytest.mark.parametrize('damage', ['random bytes', 'truncated'])
def test_corrupt_image_stops_naming_the_file(shapes, damage):
    dataset = _dataset(shapes)
    path = _image(dataset)
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(os.urandom(len(data)) if damage == 'random bytes' else data[:len(data) // 3])
    with pytest.raises(DataError, match=f'image {path} is truncated or not an image'):
        dataset[0]
    for index in range(1, len(dataset)):  # the others still load
        assert dataset[index]['inputs'].shape[-2:] == GENERATOR['img_size']


def test_corrupt_images_can_be_skipped_in_training(shapes, monkeypatch):
    logged = []
    monkeypatch.setattr(validation, 'print_log', lambda msg, **kwargs: logged.append(msg))
    dataset = _dataset(shapes, corrupt_images='skip')
    path = _image(dataset)
    with open(path, 'wb') as f:
        f.write(b'not an image')
    sample = dataset[0]  # another image instead
    assert sample['data_samples'].img_path != path
    for _ in range(5):  # the refetch may draw the same image again: it is counted once
        assert dataset[0]['data_samples'].img_path != path
    assert validation.count_skipped(dataset) == 1
    assert logged == [f'skipped unreadable image {path} (1 so far)']
    with pytest.raises(ConfigError, match='corrupt_images'):
        _dataset(shapes, corrupt_images='ignore')

    # evaluation never skips: fewer images than annotated would be a wrong score
    val = _dataset(shapes, split='val_dataloader', corrupt_images='skip')
    with open(_image(val), 'wb') as f:
        f.write(b'not an image')
    with pytest.raises(DataError, match='truncated or not an image'):
        val[0]


def test_skipped_images_counted_at_the_end_of_training(shapes, tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(runs, 'print_log', lambda msg, **kwargs: logged.append(msg))
    cfg = tiny_shapes_cfg(RETINANET_M4, str(shapes), str(tmp_path / 'work'), num_train=4,
                          num_val=2, image_size=GENERATOR['img_size'], batch_size=4)
    cfg.train_dataloader.dataset.corrupt_images = 'skip'
    # in this process: a forked loader worker segfaults once an earlier test in the same
    # pytest process has loaded OpenVINO's CPU plugin (tests/test_benchmark)
    cfg.train_dataloader.update(num_workers=0)
    config = str(tmp_path / 'skip.py')
    cfg.dump(config)
    for name in sorted(os.listdir(shapes / 'train'))[:2]:
        (shapes / 'train' / name).write_bytes(b'')
    assert train_main([config]) == 0
    assert logged[-1].startswith('2 unreadable training image(s) were skipped')


def test_empty_image_folder(shapes, capsys):
    for name in os.listdir(shapes / 'train'):
        os.remove(shapes / 'train' / name)
    with pytest.raises(DataError, match=f'image folder {shapes / "train"}.? is empty'):
        _dataset(shapes, config=FPN)
    cfg = load_config(RETINANET, {'data_root': str(shapes)})
    with pytest.raises(DataMissingError, match=r'\[empty\] +' + str(shapes / 'train')):
        check_data(cfg)


def test_data_root_override_moves_datasets_and_evaluators(tmp_path):
    root = str(tmp_path / 'elsewhere')
    cfg = load_config(RETINANET, {'data_root': root})
    for split in ('train', 'val', 'test'):
        assert cfg[f'{split}_dataloader'].dataset.data_root == root
    assert cfg.val_evaluator.ann_file == os.path.join(root, 'annotations/instances_val.json')
    assert cfg.test_evaluator.ann_file == cfg.val_evaluator.ann_file
    # an explicit per-dataset setting is kept
    cfg = load_config(RETINANET, {'data_root': root,
                                  'val_dataloader.dataset.data_root': str(tmp_path / 'val')})
    assert cfg.val_dataloader.dataset.data_root == str(tmp_path / 'val')
    assert cfg.train_dataloader.dataset.data_root == root


def test_shapes_data_is_the_repository_one_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for config in (RETINANET, FPN):
        cfg = Config.fromfile(config)
        assert os.path.abspath(cfg.train_dataloader.dataset.data_root) == os.path.join(
            REPO_ROOT, 'data', 'shapes')


def test_evaluator_annotations_are_checked(shapes, tmp_path):
    cfg = load_config(RETINANET, {'data_root': str(shapes)})
    check_data(cfg)  # all there
    cfg.val_evaluator.ann_file = str(tmp_path / 'gone.json')
    with pytest.raises(DataMissingError, match=r'\[missing\] .*gone\.json'):
        check_data(cfg)
    cfg.val_evaluator.ann_file = str(shapes / 'annotations' / 'instances_train.json')
    with pytest.raises(ConfigError, match='would score against other annotations'):
        check_data(cfg)


def _upstream_loader(root, **dataset):
    """The shapes train split read by mmdet's own CocoDataset (no mmlow mixin)."""
    cfg = tiny_shapes_cfg(RETINANET, str(root), str(root.parent / 'work'), **{
        k: v for k, v in GENERATOR.items() if k in ('num_train', 'num_val')},
                          image_size=GENERATOR['img_size'])
    loader = cfg.train_dataloader.to_dict()
    loader['dataset'].update(type='CocoDataset', **dataset)
    for key in ('generator', 'corrupt_images'):
        loader['dataset'].pop(key, None)
    return loader


def test_the_runner_names_the_file_an_upstream_dataset_failed_on(shapes):
    from mmlow.engine import MMLowRunner
    ann_file = shapes / 'annotations' / 'instances_train.json'
    ann_file.write_text('{"images": [')
    with DefaultScope.overwrite_default_scope('mmdet'):
        with pytest.raises(DataError, match=f'annotation file {ann_file} is not valid JSON'):
            MMLowRunner.build_dataloader(_upstream_loader(shapes))
        # mmengine's own runner gives the upstream traceback (nothing of it is patched)
        from mmengine.runner import Runner
        with pytest.raises(json.JSONDecodeError):
            Runner.build_dataloader(_upstream_loader(shapes))


def test_the_runner_names_an_unreadable_image_of_an_upstream_dataset(shapes):
    from mmlow.engine import MMLowRunner
    with DefaultScope.overwrite_default_scope('mmdet'):
        loader = MMLowRunner.build_dataloader(_upstream_loader(shapes))
        dataset = loader.dataset
        path = dataset.get_data_info(0)['img_path']
        with open(path, 'wb') as f:
            f.write(b'not an image')
        with pytest.raises(DataError, match=f'image {path} is truncated or not an image'):
            dataset[0]
        assert dataset[1]['inputs'].shape[0] == 3
