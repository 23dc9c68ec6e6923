"""Bad data named in one line: OpenMMLab's datasets fail deep inside numpy, json or cv2 with
messages that do not say which file is at fault. Here, when loading fails, the file that caused
it is found and a DataError names it: mmlow's own datasets do it themselves
(:class:`NamedDataErrors`), and :class:`~mmlow.engine.MMLowRunner` does it for any dataset a
config names (:func:`diagnose_config`, and :class:`~mmlow.datasets.SeededDataset` per sample).

Corrupt images: by default the run stops naming the file. A dataset with
``corrupt_images='skip'`` (mmlow's datasets take it as an argument) leaves such images out of
training with a warning each, and counts them (:func:`count_skipped`); evaluation always stops,
since scoring fewer images than the annotations list would be a silently wrong result.
"""
import json
import multiprocessing
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import mmcv
import numpy as np
from mmengine.logging import print_log

from mmlow.errors import ConfigError, DataError, DataMissingError, UserError

CORRUPT_IMAGE_POLICIES = ('error', 'skip')


IMAGE_PREFIXES = ('img', 'img_path')


def dataset_paths(cfg: dict) -> Tuple[str, Dict[str, str]]:
    """A dataset config's annotation file and data prefixes, joined to its ``data_root`` as
    OpenMMLab's datasets join them ('' when it names no annotation file)."""
    root = cfg.get('data_root') or ''
    ann_file = osp.join(root, cfg['ann_file']) if cfg.get('ann_file') else ''
    prefixes = {key: osp.join(root, path) for key, path in (cfg.get('data_prefix') or {}).items()
                if isinstance(path, str) and path}
    return ann_file, prefixes


def _image_folders(data_prefix: Optional[dict]) -> list:
    return [path for key, path in (data_prefix or {}).items()
            if isinstance(path, str) and path and key in IMAGE_PREFIXES]


def _check_annotation_file(path: str) -> None:
    if not path.endswith('.json'):
        return
    if not osp.isfile(path):
        raise DataMissingError(f'annotation file {path} does not exist: check data_root and '
                               'ann_file in the config')
    try:
        with open(path, 'rb') as f:
            content = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f'annotation file {path} is not valid JSON ({exc}): re-download or '
                        're-generate it') from exc
    if not isinstance(content, dict) or not ({'images', 'data_list'} & set(content)):
        raise DataError(f'annotation file {path} has no "images" list (COCO format) nor '
                        '"data_list" (OpenMMLab format): is it an annotation file?')
    if not content.get('images', content.get('data_list')):
        raise DataError(f'annotation file {path} lists no images: the dataset would be empty')


def _check_image_folder(path: str) -> None:
    if not osp.isdir(path):
        raise DataMissingError(f'image folder {path} does not exist: check data_root and '
                               'data_prefix in the config')
    if not os.listdir(path):
        raise DataError(f'image folder {path} is empty: copy the images there or point '
                        'data_prefix at the folder that holds them')


def _check_files(ann_file: str, image_folders) -> None:
    if ann_file:
        _check_annotation_file(ann_file)
    for folder in image_folders:
        _check_image_folder(folder)


def diagnose(dataset) -> None:
    """Raise the DataError that explains why ``dataset`` could not load, if its files do."""
    _check_files(getattr(dataset, 'ann_file', '') or '',
                 _image_folders(getattr(dataset, 'data_prefix', None)))


def leaf_datasets(cfg: dict):
    """The leaf dataset configs inside wrappers (RepeatDataset, ConcatDataset, ...)."""
    if 'dataset' in cfg:
        yield from leaf_datasets(cfg['dataset'])
    elif 'datasets' in cfg:
        for sub in cfg['datasets']:
            yield from leaf_datasets(sub)
    else:
        yield cfg


def diagnose_config(cfg: dict) -> None:
    """:func:`diagnose` for a dataset config (that failed to build), paths joined as
    OpenMMLab's datasets join them."""
    for leaf in leaf_datasets(cfg):
        ann_file, prefixes = dataset_paths(leaf)
        _check_files(ann_file, _image_folders(prefixes))


def unreadable_image(results: Optional[dict]) -> Optional[str]:
    """The image path of ``results`` if that file cannot be decoded, else None."""
    path = (results or {}).get('img_path')
    if not isinstance(path, str):
        return None
    if not osp.isfile(path):
        return path
    try:
        image = mmcv.imread(path)
    except Exception:
        return path
    return path if image is None or np.asarray(image).size == 0 else None


def check_corrupt_image_policy(policy: str) -> None:
    if policy not in CORRUPT_IMAGE_POLICIES:
        raise ConfigError(f'corrupt_images={policy!r}: choose one of {CORRUPT_IMAGE_POLICIES}')


def set_corrupt_image_policy(dataset, policy: str) -> None:
    """Set the corrupt-image policy of a fully initialised ``dataset`` (see the module doc).

    Skipped images are marked in an array shared with the data workers, so the count at the
    end is of distinct images, over all workers."""
    check_corrupt_image_policy(policy)
    dataset.corrupt_images = policy
    dataset.skipped_images = multiprocessing.Array('b', len(dataset), lock=False)


def count_skipped(dataset) -> int:
    """Distinct images skipped so far (0 for datasets without the policy)."""
    skipped = getattr(dataset, 'skipped_images', None)
    return sum(skipped) if skipped is not None else 0


def corrupt_image_error(path: str, exc: Exception) -> DataError:
    reason = 'does not exist' if not osp.isfile(path) else 'is truncated or not an image'
    return DataError(
        f'image {path} {reason} ({type(exc).__name__}). Replace the file or remove it '
        'from the annotations; to leave unreadable images out of training, set '
        'corrupt_images="skip" on the dataset')


class NamedDataErrors:
    """Mixin (before an OpenMMLab dataset class) for mmlow's datasets: a failing load names
    the file at fault, and an unreadable image stops the run naming it or, when the dataset's
    ``corrupt_images`` is 'skip', is left out of training (see the module doc)."""

    def __init__(self, *args, **kwargs):
        try:
            super().__init__(*args, **kwargs)
        except UserError:  # already names what is wrong (e.g. a reader's missing list file)
            raise
        except Exception:
            diagnose(self)  # raises the named error when a file is at fault
            raise

    def prepare_data(self, idx):
        try:
            return super().prepare_data(idx)
        except DataError:
            raise
        except Exception as exc:
            path = unreadable_image(self.get_data_info(idx))
            if path is None:
                raise
            if getattr(self, 'corrupt_images', 'error') == 'skip' and not self.test_mode:
                if not self.skipped_images[idx]:
                    self.skipped_images[idx] = 1
                    print_log(f'skipped unreadable image {path} '
                              f'({count_skipped(self)} so far)', logger='current', level=30)
                return None  # BaseDataset then draws another sample
            raise corrupt_image_error(path, exc) from exc
