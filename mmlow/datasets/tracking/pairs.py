"""Training pairs for one-stream trackers: a template crop and a jittered search crop of the
same target from two frames of a sequence (COCO: two jitters of one photo)."""
from typing import List, Optional, Sequence

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
    """Random (template, search) pairs drawn from several readers.

    Args:
        sources: reader configs (``type`` any registered reader), each optionally with a
            ``weight`` (how often it is drawn; default 1).
        samples_per_epoch: the dataset's length (pairs are drawn at random, seeded by index).
        max_interval: largest frame gap between template and search frame.
        centre_jitter / scale_jitter: search-region jitter (LowFormer-Track: 3 and 0.25).
        brightness_jitter: std of a log-brightness factor applied to both crops.
    """

    def __init__(self, sources: Sequence[dict], samples_per_epoch: int = 60000,
                 template_size: int = 112, search_size: int = 224,
                 template_factor: float = 2.0, search_factor: float = 4.0,
                 max_interval: int = 200, centre_jitter: float = 3.0,
                 scale_jitter: float = 0.25, brightness_jitter: float = 0.1, seed: int = 0,
                 min_box_size: float = 2.0):
        self.sequences: List = []
        self.weights: List[float] = []
        for source in sources:
            source = dict(source)
            weight = float(source.pop('weight', 1.0))
            reader = DATASETS.build(source)
            usable = [seq for seq in reader
                      if (_valid(seq.boxes, seq.visible, min_box_size)).any()]
            if not usable:
                raise TrackingDataError(f'{source["type"]} has no sequence with a visible '
                                        'target of usable size')
            self.sequences.extend(usable)
            self.weights.extend([weight / len(usable)] * len(usable))
        self.weights = np.array(self.weights) / np.sum(self.weights)
        self.samples_per_epoch = int(samples_per_epoch)
        self.template_size, self.search_size = template_size, search_size
        self.template_factor, self.search_factor = template_factor, search_factor
        self.max_interval, self.centre_jitter = max_interval, centre_jitter
        self.scale_jitter, self.brightness_jitter = scale_jitter, brightness_jitter
        self.seed, self.min_box_size = seed, min_box_size

    def __len__(self) -> int:
        return self.samples_per_epoch

    @staticmethod
    def check_sources(cfg: dict) -> None:
        """Open every source reader (raises TrackingDataError naming what is missing)."""
        for source in cfg['sources']:
            source = dict(source)
            source.pop('weight', None)
            DATASETS.build(source)

    def _frames(self, rng: np.random.Generator, seq) -> tuple:
        valid = np.flatnonzero(_valid(seq.boxes, seq.visible, self.min_box_size))
        template = int(rng.choice(valid))
        near = valid[np.abs(valid - template) <= self.max_interval]
        return template, int(rng.choice(near))

    def __getitem__(self, index: int) -> dict:
        rng = np.random.default_rng((self.seed, index))
        seq = self.sequences[rng.choice(len(self.sequences), p=self.weights)]
        template_index, search_index = self._frames(rng, seq)
        brightness = np.exp(rng.normal(0, self.brightness_jitter))

        template_image = read_image(seq.frames[template_index])
        pad = template_image.reshape(-1, 3).mean(0).tolist()
        template = crop(template_image, crop_transform(
            seq.boxes[template_index], self.template_factor, self.template_size), pad)

        search_image = read_image(seq.frames[search_index])
        target = seq.boxes[search_index]
        transform = crop_transform(jitter_box(target, rng, self.centre_jitter,
                                              self.scale_jitter),
                                   self.search_factor, self.search_size)
        search = crop(search_image, transform, pad)
        x, y, w, h = transform.box_to_crop(target) / self.search_size
        centre = np.clip([x + w / 2, y + h / 2], 0.0, 1.0 - 1e-6)
        box = np.array([centre[0], centre[1], min(w, 1.0), min(h, 1.0)], dtype=np.float32)
        return dict(inputs=dict(template=_to_tensor(template, brightness),
                                search=_to_tensor(search, brightness)),
                    data_samples=dict(search_box=torch.from_numpy(box)))


def _valid(boxes: np.ndarray, visible: np.ndarray, min_size: float) -> np.ndarray:
    return visible & (boxes[:, 2] >= min_size) & (boxes[:, 3] >= min_size)


def _to_tensor(patch: np.ndarray, brightness: Optional[float] = None) -> torch.Tensor:
    if brightness is not None and brightness != 1.0:
        patch = np.clip(patch.astype(np.float32) * brightness, 0, 255).astype(np.uint8)
    return torch.from_numpy(np.ascontiguousarray(patch.transpose(2, 0, 1)))
