"""Training pairs for one-stream trackers: a template crop and a jittered search crop of the
same target from two frames of a sequence (COCO: two jitters of one photo)."""
from typing import List, Sequence

import cv2
import numpy as np
import torch

from mmlow.models.tracking.geometry import crop, crop_transform, jitter_box
from mmlow.registry import DATASETS
from .readers import GOT10kReader, TrackingDataError, read_image
from .synthetic import ensure_tracking_shapes


@DATASETS.register_module()
class ShapesTrackingReader(GOT10kReader):
    """The synthetic sequences (generated into ``root`` on first use), read as GOT-10k."""

    def __init__(self, root: str = 'data/shapes_tracking', subset: str = 'train',
                 **generation):
        super().__init__(ensure_tracking_shapes(root, **generation), subset)


@DATASETS.register_module()
class TrackingPairDataset(torch.utils.data.Dataset):
    """Random (template, search) pairs drawn from several readers, as LowFormer-Track's
    (OSTrack's) ``TrackingSampler`` in 'causal' mode with its processing and transforms.

    The label ``search_box`` is the target's normalised ``(cx, cy, w, h)`` in the search crop,
    clipped to the crop. Every pair is drawn from the seed the sampler attaches to its index
    (mmlow's seeded samplers derive it from the run seed, the epoch, or the place in an
    iteration-based stream, and the index), so each epoch sees fresh pairs and a resumed run
    draws the same ones as an uninterrupted run. An index without a seed (direct indexing, or
    mmengine's own samplers) draws from ``(seed, index)``, the same pairs every epoch.

    Args:
        sources: reader configs (``type`` any registered reader), each optionally with a
            ``weight`` (how often it is drawn; default 1).
        samples_per_epoch: the dataset's length.
        max_interval: the search frame is a visible frame after the template frame, at most
            ``max_interval`` frames later (widened by 5 until one is found).
        min_frames / min_visible_frames: video sequences shorter, or with fewer usable frames,
            are not drawn (the reference: 20 frames, more than 4 visible); one-frame sources
            (COCO) pair a photo with itself.
        centre_jitter / scale_jitter: search-region jitter (the template's is none).
        brightness_jitter: each crop's pixels are scaled by a factor drawn uniformly from
            ``[1 - b, 1 + b]``.
        grayscale_prob: both crops are turned grey together with this probability.
        joint_flip_prob / flip_prob: both crops are mirrored together, then each crop on its
            own, with these probabilities (the labelled box is mirrored with its crop).
    """

    # draws each pair from the index's seed with its own generator (SeededDataset passes the
    # seeded index through instead of seeding the global streams)
    seeds_itself = True

    def __init__(self, sources: Sequence[dict], samples_per_epoch: int = 60000,
                 template_size: int = 112, search_size: int = 224,
                 template_factor: float = 2.0, search_factor: float = 4.0,
                 max_interval: int = 200, centre_jitter: float = 3.0,
                 scale_jitter: float = 0.25, brightness_jitter: float = 0.2,
                 grayscale_prob: float = 0.05, joint_flip_prob: float = 0.5,
                 flip_prob: float = 0.5, seed: int = 0, min_box_size: float = 2.0,
                 min_frames: int = 20, min_visible_frames: int = 5):
        self.min_box_size = min_box_size
        self.min_frames, self.min_visible_frames = min_frames, min_visible_frames
        self.sequences: List = []
        self.weights: List[float] = []
        for source in sources:
            source = dict(source)
            weight = float(source.pop('weight', 1.0))
            reader = DATASETS.build(source)
            usable = [seq for seq in reader if self._usable(seq)]
            if not usable:
                raise TrackingDataError(
                    f'{source["type"]} has no sequence with at least {min_frames} frames and '
                    f'{min_visible_frames} with a visible target of usable size')
            self.sequences.extend(usable)
            self.weights.extend([weight / len(usable)] * len(usable))
        self.weights = np.array(self.weights) / np.sum(self.weights)
        self.samples_per_epoch = int(samples_per_epoch)
        self.template_size, self.search_size = template_size, search_size
        self.template_factor, self.search_factor = template_factor, search_factor
        self.max_interval, self.centre_jitter = max_interval, centre_jitter
        self.scale_jitter, self.brightness_jitter = scale_jitter, brightness_jitter
        self.grayscale_prob = grayscale_prob
        self.joint_flip_prob, self.flip_prob = joint_flip_prob, flip_prob
        self.seed = seed

    def __len__(self) -> int:
        return self.samples_per_epoch

    @staticmethod
    def check_sources(cfg: dict) -> None:
        """Open every source reader (raises TrackingDataError naming what is missing)."""
        for source in cfg['sources']:
            source = dict(source)
            source.pop('weight', None)
            DATASETS.build(source)

    def _usable(self, seq) -> bool:
        visible = _valid(seq.boxes, seq.visible, self.min_box_size)
        if len(seq) == 1:
            return bool(visible[0])
        return (len(seq) >= self.min_frames
                and visible.sum() >= max(self.min_visible_frames, 2))

    def _frames(self, rng: np.random.Generator, seq) -> tuple:
        """Template frame, then a later search frame (the reference's 'causal' mode)."""
        valid = _valid(seq.boxes, seq.visible, self.min_box_size)
        if len(seq) == 1:
            return 0, 0
        templates = np.flatnonzero(valid[:-1])
        widen = 0
        while True:
            template = int(rng.choice(templates))
            later = np.flatnonzero(valid[template + 1:template + self.max_interval + widen])
            if len(later):
                return template, template + 1 + int(rng.choice(later))
            widen += 5

    def _jitter_pixels(self, rng: np.random.Generator, patch: np.ndarray) -> np.ndarray:
        if self.brightness_jitter > 0:
            factor = rng.uniform(1 - self.brightness_jitter, 1 + self.brightness_jitter)
            patch = np.clip(patch.astype(np.float32) * factor, 0, 255).astype(np.uint8)
        return patch

    def __getitem__(self, index: int) -> dict:
        seed = getattr(index, 'seed', None)
        rng = np.random.default_rng((self.seed, int(index)) if seed is None else seed)
        seq = self.sequences[rng.choice(len(self.sequences), p=self.weights)]
        template_index, search_index = self._frames(rng, seq)
        grayscale = rng.random() < self.grayscale_prob
        joint_flip = rng.random() < self.joint_flip_prob

        template = crop(read_image(seq.frames[template_index]), crop_transform(
            seq.boxes[template_index], self.template_factor, self.template_size))
        target = seq.boxes[search_index]
        transform = crop_transform(jitter_box(target, rng, self.centre_jitter,
                                              self.scale_jitter),
                                   self.search_factor, self.search_size)
        search = crop(read_image(seq.frames[search_index]), transform)
        x, y, w, h = transform.box_to_crop(target) / self.search_size
        # the target may stick out of the jittered crop: its box is clipped to the crop
        x0, y0 = np.clip([x, y], 0.0, 1.0)
        x1, y1 = np.clip([x + w, y + h], 0.0, 1.0)
        if grayscale:
            template, search = _grey(template), _grey(search)
        if joint_flip:
            template, search = template[:, ::-1], search[:, ::-1]
            x0, x1 = 1.0 - x1, 1.0 - x0
        template = self._jitter_pixels(rng, template)
        if rng.random() < self.flip_prob:
            template = template[:, ::-1]
        search = self._jitter_pixels(rng, search)
        if rng.random() < self.flip_prob:
            search = search[:, ::-1]
            x0, x1 = 1.0 - x1, 1.0 - x0
        box = np.array([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], dtype=np.float32)
        return dict(inputs=dict(template=_to_tensor(template), search=_to_tensor(search)),
                    data_samples=dict(search_box=torch.from_numpy(box)))


def _valid(boxes: np.ndarray, visible: np.ndarray, min_size: float) -> np.ndarray:
    return visible & (boxes[:, 2] >= min_size) & (boxes[:, 3] >= min_size)


def _grey(patch: np.ndarray) -> np.ndarray:
    return np.repeat(cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY)[..., None], 3, axis=2)


def _to_tensor(patch: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(patch.transpose(2, 0, 1)))
