"""Readers for single-object tracking datasets in their released layouts.

Each reader lists sequence names and returns a :class:`TrackingSequence` (frame paths, one
``[x, y, w, h]`` box per frame, per-frame visibility). Anything missing is reported with the
path that was expected and what the layout should look like, before any training starts.
"""
import glob
import json
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmlow.errors import DataMissingError
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

    def __init__(self, root: str, subset: str = 'val'):
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
  ROOT/testing_set.txt / training_set.txt      optional split lists"""


@DATASETS.register_module()
class LaSOTReader(_Reader):
    """LaSOT: ``ROOT/{class}/{class}-{n}``; ``subset`` 'test'/'train' reads the split list,
    None takes every sequence folder found."""
    LAYOUT = LASOT_LAYOUT

    def __init__(self, root: str, subset: Optional[str] = 'test'):
        self.root = _require(root, 'LaSOT root', self.LAYOUT, is_dir=True)
        split_file = osp.join(root, f'{"testing" if subset == "test" else "training"}_set.txt')
        if subset is not None and osp.isfile(split_file):
            with open(split_file) as f:
                self.names = [line.strip() for line in f if line.strip()]
        else:
            self.names = sorted(
                osp.basename(path) for path in glob.glob(osp.join(root, '*', '*-[0-9]*'))
                if osp.isdir(path))
        if not self.names:
            raise TrackingDataError(f'no LaSOT sequence folder under {root}\nexpected layout:\n'
                                    f'{self.LAYOUT}')

    def sequence(self, name: str) -> TrackingSequence:
        category = name.rsplit('-', 1)[0]
        seq_dir = _require(osp.join(self.root, category, name), f'LaSOT sequence {name}',
                           self.LAYOUT, is_dir=True)
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
    """TrackingNet chunks (``TRAIN_0`` .. ``TRAIN_11``, ``TEST``)."""
    LAYOUT = TRACKINGNET_LAYOUT

    def __init__(self, root: str, chunks: Sequence[str] = ('TEST', )):
        self.root = root
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
