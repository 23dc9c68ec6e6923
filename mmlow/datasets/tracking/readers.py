"""Readers for single-object tracking datasets in their released layouts.

Each reader lists sequence names and returns a :class:`TrackingSequence` (frame paths, one
``[x, y, w, h]`` box per frame, per-frame visibility). Anything missing is reported with the
path that was expected and what the layout should look like, before any training starts.
"""
import glob
import json
import os.path as osp
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmlow.errors import ConfigError, DataError, DataMissingError
from mmlow.registry import DATASETS


class TrackingDataError(DataMissingError):
    """A dataset folder does not have the layout its reader expects."""


@dataclass
class TrackingSequence:
    name: str
    frames: List[str]
    boxes: np.ndarray                      # (N, 4) x, y, w, h
    visible: np.ndarray                    # (N,) bool: target (partly) visible
    cover: Optional[np.ndarray] = None     # GOT-10k's 0..8 visible-ratio label
    image_size: Optional[Tuple[int, int]] = None   # (width, height)
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frames)

    def size(self) -> Tuple[int, int]:
        """(width, height), read from the first frame when the layout does not say."""
        if self.image_size is None:
            image = read_image(self.frames[0])
            self.image_size = (image.shape[1], image.shape[0])
        return self.image_size


def read_image(path: str) -> np.ndarray:
    """BGR uint8 image, or an error naming the file."""
    if not osp.isfile(path):
        raise TrackingDataError(f'frame {path} does not exist')
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise TrackingDataError(f'frame {path} exists but cannot be decoded (corrupt or not an '
                                'image); re-extract the dataset')
    return image


def _require(path: str, what: str, layout: str, is_dir: bool = False) -> str:
    exists = osp.isdir(path) if is_dir else osp.isfile(path)
    if not exists:
        raise TrackingDataError(f'{what} not found: {path}\nexpected layout:\n{layout}')
    return path


def load_boxes(path: str, num_frames: Optional[int] = None) -> np.ndarray:
    """``x,y,w,h`` rows (comma, tab or space separated)."""
    with open(path) as f:
        rows = [line.replace('\t', ',').replace(' ', ',') for line in f.read().splitlines()
                if line.strip()]
    try:
        boxes = np.array([[float(v) for v in row.split(',') if v] for row in rows],
                         dtype=np.float64)
    except ValueError:
        raise TrackingDataError(f'{path}: every row must be four numbers x,y,w,h') from None
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise TrackingDataError(f'{path}: every row must be four numbers x,y,w,h '
                                f'(got shape {boxes.shape})')
    if num_frames is not None and len(boxes) != num_frames:
        raise TrackingDataError(f'{path} has {len(boxes)} boxes but the sequence has '
                                f'{num_frames} frames')
    return boxes


def _load_flags(path: str, num_frames: int) -> np.ndarray:
    with open(path) as f:
        values = [v for v in f.read().replace(',', ' ').split() if v]
    if len(values) != num_frames:
        raise TrackingDataError(f'{path} has {len(values)} labels for {num_frames} frames')
    return np.array([float(v) for v in values])


def _frames(folder: str, pattern: str, layout: str) -> List[str]:
    frames = sorted(glob.glob(osp.join(folder, pattern)))
    if not frames:
        raise TrackingDataError(f'no frames ({pattern}) in {folder}\nexpected layout:\n{layout}')
    return frames


class _Reader:
    LAYOUT = ''

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index) -> TrackingSequence:
        name = self.names[index] if isinstance(index, int) else index
        return self.sequence(name)

    def __iter__(self):
        for name in self.names:
            yield self.sequence(name)


GOT10K_LAYOUT = """  ROOT/{subset}/list.txt                     one sequence name per line
  ROOT/{subset}/{seq}/00000001.jpg ...       frames
  ROOT/{subset}/{seq}/groundtruth.txt        x,y,w,h per frame (test: first frame only)
  ROOT/{subset}/{seq}/absence.label          1 where the target is absent (train/val)
  ROOT/{subset}/{seq}/cover.label            visible ratio 0..8 (train/val)
  ROOT/{subset}/{seq}/meta_info.ini          optional; 'resolution: (W, H)'"""


@DATASETS.register_module()
class GOT10kReader(_Reader):
    """GOT-10k: ``ROOT/{train,val,test}``; see ``GOT10K_LAYOUT``."""
    LAYOUT = GOT10K_LAYOUT

    SUBSETS = ('train', 'val', 'test')

    def __init__(self, root: str, subset: str = 'val'):
        if subset not in self.SUBSETS:
            raise ConfigError(f'GOT-10k subset must be one of {", ".join(self.SUBSETS)}, got '
                              f'{subset!r}')
        self.root, self.subset = root, subset
        self.subset_dir = _require(osp.join(root, subset), f'GOT-10k {subset} folder',
                                   self.LAYOUT, is_dir=True)
        list_file = _require(osp.join(self.subset_dir, 'list.txt'), 'GOT-10k list.txt',
                             self.LAYOUT)
        with open(list_file) as f:
            self.names = [line.strip() for line in f if line.strip()]
        if not self.names:
            raise TrackingDataError(f'{list_file} lists no sequence')

    def sequence(self, name: str) -> TrackingSequence:
        seq_dir = _require(osp.join(self.subset_dir, name), f'sequence folder of {name} '
                           f'(listed in {self.subset}/list.txt)', self.LAYOUT, is_dir=True)
        frames = _frames(seq_dir, '[0-9]' * 8 + '.jpg', self.LAYOUT)
        gt_file = _require(osp.join(seq_dir, 'groundtruth.txt'), f'groundtruth of {name}',
                           self.LAYOUT)
        boxes = load_boxes(gt_file)
        if self.subset == 'test':
            cover = None
            visible = np.ones(len(frames), dtype=bool)
        else:
            if len(boxes) != len(frames):
                raise TrackingDataError(f'{gt_file} has {len(boxes)} boxes but {seq_dir} has '
                                        f'{len(frames)} frames')
            absence = _load_flags(_require(osp.join(seq_dir, 'absence.label'),
                                           f'absence.label of {name}', self.LAYOUT),
                                  len(frames))
            cover = _load_flags(_require(osp.join(seq_dir, 'cover.label'),
                                         f'cover.label of {name}', self.LAYOUT), len(frames))
            visible = (absence == 0) & (cover > 0)
        return TrackingSequence(name, frames, boxes, visible, cover,
                                _got10k_resolution(seq_dir))


def _got10k_resolution(seq_dir: str) -> Optional[Tuple[int, int]]:
    meta_file = osp.join(seq_dir, 'meta_info.ini')
    if not osp.isfile(meta_file):
        return None
    with open(meta_file) as f:
        for line in f:
            key, _, value = line.partition(':')
            if key.strip() == 'resolution':
                width, height = value.strip().strip('()').split(',')
                return int(float(width)), int(float(height))
    return None


LASOT_LAYOUT = """  ROOT/{class}/{class}-{n}/img/00000001.jpg ...
  ROOT/{class}/{class}-{n}/groundtruth.txt     x,y,w,h per frame
  ROOT/{class}/{class}-{n}/full_occlusion.txt  0/1 per frame, comma separated
  ROOT/{class}/{class}-{n}/out_of_view.txt     0/1 per frame
  ROOT/testing_set.txt / training_set.txt      optional split lists (default: the official
                                               protocol-II split shipped with mmlow)"""

SPLIT_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'splits')
LASOT_SUBSETS = ('train', 'test', 'all')


def _read_names(path: str) -> List[str]:
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


@lru_cache(maxsize=None)
def _lasot_official(subset: str) -> Tuple[str, ...]:
    return tuple(_read_names(lasot_split_file(subset)))


def lasot_split_file(subset: str) -> str:
    """The official LaSOT protocol-II list shipped with mmlow: ``'test'`` 280 sequences (4 per
    class), ``'train'`` the other 1,120 (16 per class); the same lists as LaSOT's
    ``testing_set.txt`` / ``training_set.txt`` and pytracking's split."""
    if subset not in ('train', 'test'):
        raise ConfigError(f"the LaSOT split lists are 'train' and 'test', got {subset!r}")
    return osp.join(SPLIT_DIR, f'lasot_{"testing" if subset == "test" else "training"}_set.txt')


def lasot_split(subset: str) -> List[str]:
    """Sequence names of the official LaSOT protocol-II ``'train'`` or ``'test'`` split."""
    return list(_lasot_official(subset))


def _some(names: Sequence[str], count: int = 5) -> str:
    shown = ', '.join(names[:count])
    return shown + (f', ... ({len(names) - count} more)' if len(names) > count else '')


@DATASETS.register_module()
class LaSOTReader(_Reader):
    """LaSOT: ``ROOT/{class}/{class}-{n}``.

    ``subset`` 'test' or 'train' reads ``ROOT/testing_set.txt`` / ``ROOT/training_set.txt``
    when the root has them, else the official protocol-II split shipped with mmlow
    (:func:`lasot_split`): 280 test and 1,120 train sequences. 'test' needs every listed
    sequence folder (scores on part of the test set are not LaSOT scores); 'train' takes the
    listed sequences whose folder exists (downloading some classes is common) and warns how
    many are missing. 'all' takes every sequence folder under the root, the test sequences
    included, and warns so; never use it to train a model you test on LaSOT.
    """
    LAYOUT = LASOT_LAYOUT

    def __init__(self, root: str, subset: str = 'test'):
        if subset not in LASOT_SUBSETS:
            hint = (" (None used to mean every folder: pass subset='all' for that)"
                    if subset is None else '')
            raise ConfigError(f"LaSOT subset must be 'train', 'test' or 'all', got "
                              f'{subset!r}{hint}')
        self.root = _require(root, 'LaSOT root', self.LAYOUT, is_dir=True)
        self.subset = subset
        if subset == 'all':
            self.split_file = None
            self.names = sorted(
                osp.basename(path) for path in glob.glob(osp.join(root, '*', '*-[0-9]*'))
                if osp.isdir(path))
            if not self.names:
                raise TrackingDataError(f'no LaSOT sequence folder under {root}\nexpected '
                                        f'layout:\n{self.LAYOUT}')
            in_test = len(set(self.names) & set(_lasot_official('test')))
            warnings.warn(f"LaSOTReader(subset='all') reads all {len(self.names)} sequence "
                          f'folders under {root}, {in_test} of them from the official LaSOT '
                          "test split; use subset='train' to train a model you test on LaSOT",
                          stacklevel=2)
            return
        local = osp.join(root, f'{"testing" if subset == "test" else "training"}_set.txt')
        self.split_file = local if osp.isfile(local) else lasot_split_file(subset)
        names = _read_names(self.split_file)
        if not names:
            raise TrackingDataError(f'{self.split_file} lists no sequence')
        if subset == 'train' and self.split_file == local:
            official_test = set(_lasot_official('test'))
            leaked = [name for name in names if name in official_test]
            if leaked:
                raise DataError(f'{local} lists {len(leaked)} sequences of the official LaSOT '
                                f'test split ({_some(leaked)}); training on them leaks the '
                                'test set: remove them, or delete the file to use the '
                                'official train split shipped with mmlow')
        missing = [name for name in names if not osp.isdir(self._seq_dir(name))]
        if len(missing) == len(names):
            raise TrackingDataError(
                f'no LaSOT sequence folder of the {subset} split under {root} (none of the '
                f'{len(names)} listed in {self.split_file}, e.g. {self._seq_dir(names[0])})'
                f'\nexpected layout:\n{self.LAYOUT}')
        if missing and subset == 'test':
            raise TrackingDataError(
                f'LaSOT test split incomplete: {len(missing)} of the {len(names)} sequences '
                f'listed in {self.split_file} have no folder under {root} ({_some(missing)}); '
                'download every class of the test set (scores on part of it are not LaSOT '
                f'scores)\nexpected layout:\n{self.LAYOUT}')
        if missing:
            warnings.warn(f'LaSOT train: {len(missing)} of the {len(names)} sequences listed in '
                          f'{self.split_file} have no folder under {root} ({_some(missing)}); '
                          f'training on the {len(names) - len(missing)} that are there',
                          stacklevel=2)
        absent = set(missing)
        self.names = [name for name in names if name not in absent]

    def _seq_dir(self, name: str) -> str:
        return osp.join(self.root, name.rsplit('-', 1)[0], name)

    def sequence(self, name: str) -> TrackingSequence:
        seq_dir = _require(self._seq_dir(name), f'LaSOT sequence {name}', self.LAYOUT,
                           is_dir=True)
        frames = _frames(osp.join(seq_dir, 'img'), '*.jpg', self.LAYOUT)
        boxes = load_boxes(_require(osp.join(seq_dir, 'groundtruth.txt'),
                                    f'groundtruth of {name}', self.LAYOUT), len(frames))
        occluded = _load_flags(_require(osp.join(seq_dir, 'full_occlusion.txt'),
                                        f'full_occlusion.txt of {name}', self.LAYOUT),
                               len(frames))
        out_of_view = _load_flags(_require(osp.join(seq_dir, 'out_of_view.txt'),
                                           f'out_of_view.txt of {name}', self.LAYOUT),
                                  len(frames))
        visible = (occluded == 0) & (out_of_view == 0)
        return TrackingSequence(name, frames, boxes, visible)


TRACKINGNET_LAYOUT = """  ROOT/TRAIN_{k}/frames/{video}/0.jpg 1.jpg ...
  ROOT/TRAIN_{k}/anno/{video}.txt    x,y,w,h per frame
  ROOT/TEST/frames/{video}/...  ROOT/TEST/anno/{video}.txt (first frame only)"""


@DATASETS.register_module()
class TrackingNetReader(_Reader):
    """TrackingNet chunks (``TRAIN_0`` .. ``TRAIN_11``, ``TEST``).

    ``chunks`` is either ``('TEST', )`` (the test set; its annotations hold the first box only,
    scores come from the evaluation server) or any of the twelve ``TRAIN_k`` chunks; one reader
    never mixes the two, so test videos cannot end up in a training source.
    """
    LAYOUT = TRACKINGNET_LAYOUT
    CHUNKS = tuple(f'TRAIN_{k}' for k in range(12)) + ('TEST', )

    def __init__(self, root: str, chunks: Sequence[str] = ('TEST', )):
        chunks = (chunks, ) if isinstance(chunks, str) else tuple(chunks)
        unknown = [chunk for chunk in chunks if chunk not in self.CHUNKS]
        if unknown or not chunks:
            raise ConfigError(f'TrackingNet chunks must be TRAIN_0 .. TRAIN_11 or TEST, got '
                              f'{", ".join(map(repr, unknown)) if unknown else "none"}')
        if 'TEST' in chunks and len(chunks) > 1:
            raise ConfigError(f'TrackingNet chunks {", ".join(chunks)} mix TEST with training '
                              'chunks; read TEST (test set) and TRAIN_k (training) with separate '
                              'readers')
        if len(set(chunks)) != len(chunks):
            raise ConfigError(f'TrackingNet chunks {", ".join(chunks)} name a chunk twice')
        self.root, self.chunks = root, chunks
        self._chunk_of = {}
        for chunk in chunks:
            anno_dir = _require(osp.join(root, chunk, 'anno'), f'TrackingNet {chunk}/anno',
                                self.LAYOUT, is_dir=True)
            for path in sorted(glob.glob(osp.join(anno_dir, '*.txt'))):
                self._chunk_of[osp.splitext(osp.basename(path))[0]] = chunk
        self.names = list(self._chunk_of)
        if not self.names:
            raise TrackingDataError(f'no annotation file in {root}/{{{",".join(chunks)}}}/anno'
                                    f'\nexpected layout:\n{self.LAYOUT}')

    def sequence(self, name: str) -> TrackingSequence:
        chunk = self._chunk_of[name]
        frame_dir = _require(osp.join(self.root, chunk, 'frames', name),
                             f'TrackingNet frames of {name}', self.LAYOUT, is_dir=True)
        frames = sorted(glob.glob(osp.join(frame_dir, '*.jpg')),
                        key=lambda p: int(osp.splitext(osp.basename(p))[0]))
        if not frames:
            raise TrackingDataError(f'no frames in {frame_dir}\nexpected layout:\n{self.LAYOUT}')
        boxes = load_boxes(osp.join(self.root, chunk, 'anno', f'{name}.txt'))
        if chunk != 'TEST' and len(boxes) != len(frames):
            raise TrackingDataError(f'{chunk}/anno/{name}.txt has {len(boxes)} boxes for '
                                    f'{len(frames)} frames')
        return TrackingSequence(name, frames, boxes, np.ones(len(frames), dtype=bool))


@DATASETS.register_module()
class COCOPairsReader(_Reader):
    """COCO as one-frame sequences: every non-crowd object is a target whose template and search
    images are the same photo (the sampler's jitter makes them differ)."""
    LAYOUT = """  ROOT/annotations/instances_{split}.json
  ROOT/{split}/000000xxxxxx.jpg"""

    def __init__(self, root: str, split: str = 'train2017', min_size: float = 8.0):
        ann_file = _require(osp.join(root, 'annotations', f'instances_{split}.json'),
                            'COCO annotation file', self.LAYOUT)
        self.image_dir = _require(osp.join(root, split), 'COCO image folder', self.LAYOUT,
                                  is_dir=True)
        with open(ann_file) as f:
            coco = json.load(f)
        images = {image['id']: image for image in coco['images']}
        self._objects = {}
        for ann in coco['annotations']:
            x, y, w, h = ann['bbox']
            if ann.get('iscrowd', 0) or min(w, h) < min_size:
                continue
            image = images[ann['image_id']]
            self._objects[f'coco_{ann["id"]}'] = (image, [x, y, w, h])
        self.names = list(self._objects)
        if not self.names:
            raise TrackingDataError(f'{ann_file} has no object of at least {min_size} px')

    def sequence(self, name: str) -> TrackingSequence:
        image, box = self._objects[name]
        return TrackingSequence(name, [osp.join(self.image_dir, image['file_name'])],
                                np.array([box], dtype=np.float64), np.ones(1, dtype=bool),
                                image_size=(image['width'], image['height']))


def write_got10k_meta(seq_dir: str, width: int, height: int) -> None:
    """``meta_info.ini`` as GOT-10k ships it (the official toolkit reads ``resolution``)."""
    with open(osp.join(seq_dir, 'meta_info.ini'), 'w') as f:
        f.write(f'[METAINFO]\nresolution: ({width}, {height})\n')
