"""Retrieval datasets read from their released layouts.

Each reads its own list files as published and yields ``dict(img_path, gt_label)``; the label
is an identity (class, product, item) that query and gallery share. A missing folder, list
file or listed image is reported by name before any training starts.
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from mmpretrain.datasets import BaseDataset

from mmlow.errors import ConfigError, DataError, DataMissingError
from mmlow.registry import DATASETS
from .shapes_retrieval import ensure_shapes_retrieval
from .validation import NamedDataErrors

# images listed but absent: how many to name in the error
MISSING_SHOWN = 5


class RetrievalDataMissingError(DataMissingError):
    """A folder, list file or listed image of a released layout is not there."""


class ListedImagesDataset(NamedDataErrors, BaseDataset):
    """Base of the readers: split check, list-file and image checks, data list.

    Subclasses set ``SPLITS``, ``LAYOUT`` (the released layout, for error messages),
    ``NAME`` and ``FILES`` (what a split reads, relative to data_root, for the tools' check
    before training), and implement :meth:`read_split` returning (image path relative to
    data_root, label) pairs.
    """
    NAME = ''
    SPLITS: Tuple[str, ...] = ()
    LAYOUT = ''
    FILES: Tuple[str, ...] = ()

    @classmethod
    def expected_files(cls, split: Optional[str]) -> List[str]:
        return [path.format(split=split) for path in cls.FILES]

    def __init__(self, data_root: str, split: str, check_images: bool = True, **kwargs):
        if split not in self.SPLITS:
            raise ConfigError(f'{self.NAME} split must be one of {self.SPLITS}, not {split!r}')
        self.split = split
        self.check_images = check_images
        kwargs.setdefault('ann_file', '')
        super().__init__(data_root=data_root, **kwargs)

    def _missing(self, what: str, path: str) -> RetrievalDataMissingError:
        return RetrievalDataMissingError(
            f'{self.NAME}: {what} {path!r} does not exist. Expected the released layout under '
            f'data_root={self.data_root!r}:\n{self.LAYOUT}\nDownload the dataset into that '
            'layout, link it there, or set data_root (--cfg-options '
            'train_dataloader.dataset.data_root=...).')

    def list_file(self, relative: str) -> List[List[str]]:
        """The whitespace-split lines of a list file of the release."""
        if not osp.isdir(self.data_root):
            raise self._missing('dataset folder', self.data_root)
        path = osp.join(self.data_root, relative)
        if not osp.isfile(path):
            raise self._missing('list file', path)
        with open(path) as f:
            return [line.split() for line in f if line.strip()]

    def bad_line(self, relative: str, number: int, line: Sequence[str], expected: str):
        return DataError(f'{self.NAME}: line {number} of {osp.join(self.data_root, relative)} '
                          f'reads {" ".join(line)!r}; expected {expected}. Is the file '
                          'truncated or from another release?')

    def read_split(self) -> List[Tuple[str, int]]:
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        items = self.read_split()
        if not items:
            raise DataError(f'{self.NAME}: the {self.split!r} split lists no image')
        data_list = [dict(img_path=osp.join(self.data_root, path), gt_label=label)
                     for path, label in items]
        if self.check_images:
            missing = [d['img_path'] for d in data_list if not osp.isfile(d['img_path'])]
            if missing:
                shown = '\n'.join(f'  {path}' for path in missing[:MISSING_SHOWN])
                more = (f'\n  ... and {len(missing) - MISSING_SHOWN} more'
                        if len(missing) > MISSING_SHOWN else '')
                raise RetrievalDataMissingError(
                    f'{self.NAME}: {len(missing)} of the {len(data_list)} images listed for '
                    f'the {self.split!r} split are missing:\n{shown}{more}\nThe image folder '
                    f'is incomplete (an interrupted extraction?). Expected layout:\n'
                    f'{self.LAYOUT}')
        return data_list

    def extra_repr(self) -> List[str]:
        return [f'Root of dataset: \t{self.data_root}', f'Split: \t{self.split}']


@DATASETS.register_module()
class CUBRetrieval(ListedImagesDataset):
    """CUB-200-2011 for retrieval: classes 1-100 train, 101-200 test (the metric-learning
    split, not the release's per-image train_test_split.txt). Labels are class id - 1."""
    NAME = 'CUB-200-2011'
    SPLITS = ('train', 'test')
    LAYOUT = ('  CUB_200_2011/images.txt               "<image id> <path under images/>"\n'
              '  CUB_200_2011/image_class_labels.txt   "<image id> <class id 1-200>"\n'
              '  CUB_200_2011/images/001.Black_footed_Albatross/*.jpg ...')
    FILES = ('images.txt', 'image_class_labels.txt', 'images/')
    NUM_TRAIN_CLASSES = 100

    def read_split(self):
        paths = {}
        for number, line in enumerate(self.list_file('images.txt'), 1):
            if len(line) != 2:
                raise self.bad_line('images.txt', number, line, '"<image id> <path>"')
            paths[line[0]] = line[1]
        items = []
        for number, line in enumerate(self.list_file('image_class_labels.txt'), 1):
            if len(line) != 2 or not line[1].isdigit():
                raise self.bad_line('image_class_labels.txt', number, line,
                                    '"<image id> <class id>"')
            if line[0] not in paths:
                raise DataError(f'{self.NAME}: image id {line[0]} of image_class_labels.txt '
                                 'is not in images.txt')
            class_id = int(line[1])
            if (class_id <= self.NUM_TRAIN_CLASSES) == (self.split == 'train'):
                items.append((osp.join('images', paths[line[0]]), class_id - 1))
        return items


@DATASETS.register_module()
class StanfordOnlineProducts(ListedImagesDataset):
    """Stanford Online Products: Ebay_train.txt (11,318 products) / Ebay_test.txt (11,316).
    Labels are class id - 1 (products of the two splits do not overlap)."""
    NAME = 'Stanford Online Products'
    SPLITS = ('train', 'test')
    LAYOUT = ('  Stanford_Online_Products/Ebay_train.txt   header, then '
              '"<image id> <class id> <super class id> <path>"\n'
              '  Stanford_Online_Products/Ebay_test.txt\n'
              '  Stanford_Online_Products/bicycle_final/*.JPG ... (paths as listed)')
    FILES = ('Ebay_{split}.txt', )

    def read_split(self):
        name = f'Ebay_{self.split}.txt'
        lines = self.list_file(name)
        if not lines or lines[0][:2] != ['image_id', 'class_id']:
            raise DataError(f'{self.NAME}: {osp.join(self.data_root, name)} must start with '
                             'the header "image_id class_id super_class_id path"')
        items = []
        for number, line in enumerate(lines[1:], 2):
            if len(line) != 4 or not line[1].isdigit():
                raise self.bad_line(name, number, line,
                                    '"<image id> <class id> <super class id> <path>"')
            items.append((line[3], int(line[1]) - 1))
        return items


@DATASETS.register_module()
class InShopRetrieval(ListedImagesDataset):
    """DeepFashion In-Shop Clothes Retrieval: Eval/list_eval_partition.txt splits the images
    into train (3,997 items), query and gallery (3,985 items, searched against each other).

    Train labels number the train items 0..; query and gallery labels are the numeric part of
    the item id, so that a query and its gallery images share it.
    """
    NAME = 'In-Shop'
    SPLITS = ('train', 'query', 'gallery')
    LAYOUT = ('  Eval/list_eval_partition.txt   count, header, then '
              '"<image name> <item id> <train|query|gallery>"\n'
              '  Img/img/WOMEN/Dresses/id_00000002/02_1_front.jpg ... (image name under Img/)')
    PARTITION = osp.join('Eval', 'list_eval_partition.txt')
    FILES = (PARTITION, 'Img/img/')

    def read_split(self):
        lines = self.list_file(self.PARTITION)
        if len(lines) < 2 or lines[1] != ['image_name', 'item_id', 'evaluation_status']:
            raise DataError(f'{self.NAME}: {osp.join(self.data_root, self.PARTITION)} must '
                             'start with an image count and the header '
                             '"image_name item_id evaluation_status"')
        entries = []
        for number, line in enumerate(lines[2:], 3):
            if (len(line) != 3 or line[2] not in self.SPLITS
                    or not line[1].split('_')[-1].isdigit()):
                raise self.bad_line(self.PARTITION, number, line,
                                    '"<image name> id_<number> <train|query|gallery>"')
            entries.append(line)
        if lines[0] != [str(len(entries))]:
            raise DataError(f'{self.NAME}: {osp.join(self.data_root, self.PARTITION)} '
                             f'announces {" ".join(lines[0])} images but lists '
                             f'{len(entries)}: is it truncated?')
        chosen = [(name, item) for name, item, split in entries if split == self.split]
        if self.split == 'train':
            numbers = {item: i for i, item in enumerate(sorted({item for _, item in chosen}))}
            return [(osp.join('Img', name), numbers[item]) for name, item in chosen]
        return [(osp.join('Img', name), int(item.split('_')[-1])) for name, item in chosen]


@DATASETS.register_module()
class ShapesRetrieval(ListedImagesDataset):
    """The embedded retrieval split (see mmlow.datasets.shapes_retrieval), generated under
    ``data_root`` on first use. Labels are identity numbers; train identities are 0..N-1."""
    NAME = 'shapes retrieval'
    SPLITS = ('train', 'test')
    LAYOUT = '  images/<identity>_<view>.png, train.txt, test.txt, meta.json'
    self_generating = True

    def __init__(self, data_root: str = 'data/shapes_retrieval/', split: str = 'train',
                 generator: Optional[dict] = None, **kwargs):
        ensure_shapes_retrieval(data_root, **(generator or {}))
        super().__init__(data_root=data_root, split=split, **kwargs)

    def read_split(self):
        name = f'{self.split}.txt'
        items = []
        for number, line in enumerate(self.list_file(name), 1):
            if len(line) != 2 or not line[1].isdigit():
                raise self.bad_line(name, number, line, '"<image path> <identity>"')
            items.append((line[0], int(line[1])))
        return items
