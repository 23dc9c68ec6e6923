"""Bad data named in one line: OpenMMLab's datasets fail deep inside numpy, json or cv2 with
messages that do not say which file is at fault. These wrappers let the original code run and,
when it fails, find the file that caused it and raise a DataError naming it.

Corrupt images: by default the run stops naming the file. A dataset with
``corrupt_images='skip'`` (mmlow's datasets take it as an argument) leaves such images out of
training with a warning each, and counts them (:func:`count_skipped`); evaluation always stops,
since scoring fewer images than the annotations list would be a silently wrong result.
"""
import json
import multiprocessing
import os
import os.path as osp
from typing import Optional

import mmcv
import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mmlow.errors import ConfigError, DataError, DataMissingError, UserError

CORRUPT_IMAGE_POLICIES = ('error', 'skip')


def _image_folders(dataset) -> list:
    prefix = getattr(dataset, 'data_prefix', None) or {}
    return [path for key, path in prefix.items()
            if isinstance(path, str) and path and key in ('img', 'img_path')]


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


def diagnose(dataset) -> None:
    """Raise the DataError that explains why ``dataset`` could not load, if its files do."""
    ann_file = getattr(dataset, 'ann_file', '') or ''
    if ann_file:
        _check_annotation_file(ann_file)
    for folder in _image_folders(dataset):
        _check_image_folder(folder)


def _named_load_failures(cls) -> None:
    init = cls.__init__

    def __init__(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        except UserError:  # already names what is wrong (e.g. a reader's missing list file)
            raise
        except Exception:
            diagnose(self)  # raises the named error when a file is at fault
            raise

    cls.__init__ = __init__


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
    skipped = getattr(dataset, 'skipped_images', None)
    return sum(skipped) if skipped is not None else 0


def _named_image_failures() -> None:
    prepare = BaseDataset.prepare_data

    def prepare_data(self, idx):
        try:
            return prepare(self, idx)
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
            reason = 'does not exist' if not osp.isfile(path) else 'is truncated or not an image'
            raise DataError(
                f'image {path} {reason} ({type(exc).__name__}). Replace the file or remove it '
                'from the annotations; to leave unreadable images out of training, set '
                'corrupt_images="skip" on the dataset') from exc

    BaseDataset.prepare_data = prepare_data


def install() -> None:
    from mmdet.datasets import BaseDetDataset
    from mmseg.datasets import BaseSegDataset
    for cls in (BaseDataset, BaseDetDataset, BaseSegDataset):
        if '__init__' in vars(cls):
            _named_load_failures(cls)
    _named_image_failures()
