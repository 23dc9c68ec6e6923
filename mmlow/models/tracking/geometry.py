"""Crop / un-crop geometry shared by training-pair sampling and tracking.

A crop is a square of side ``factor * sqrt(w * h)`` centred on a box, resized to ``out_size``
pixels; parts outside the frame are filled with a constant. Coordinates are continuous (pixel
``i`` covers ``[i, i + 1)``), boxes are ``[x, y, w, h]``. The transform is a scale ``s`` and a
shift: ``u = s * (X - cx) + out_size / 2``, exact in both directions.
"""
from typing import NamedTuple, Sequence

import cv2
import numpy as np


class CropTransform(NamedTuple):
    centre_x: float
    centre_y: float
    scale: float       # crop pixels per frame pixel
    out_size: int

    def box_to_crop(self, box: Sequence[float]) -> np.ndarray:
        x, y, w, h = np.asarray(box, dtype=np.float64)
        half = self.out_size / 2
        return np.array([(x - self.centre_x) * self.scale + half,
                         (y - self.centre_y) * self.scale + half, w * self.scale,
                         h * self.scale])

    def box_from_crop(self, box: Sequence[float]) -> np.ndarray:
        u, v, w, h = np.asarray(box, dtype=np.float64)
        half = self.out_size / 2
        return np.array([(u - half) / self.scale + self.centre_x,
                         (v - half) / self.scale + self.centre_y, w / self.scale,
                         h / self.scale])

    def affine(self) -> np.ndarray:
        """The 2x3 matrix for ``cv2.warpAffine`` (which works on pixel-centre indices)."""
        s = self.scale
        shift_x = s * (0.5 - self.centre_x) + self.out_size / 2 - 0.5
        shift_y = s * (0.5 - self.centre_y) + self.out_size / 2 - 0.5
        return np.array([[s, 0.0, shift_x], [0.0, s, shift_y]])


def crop_transform(box: Sequence[float], factor: float, out_size: int) -> CropTransform:
    """The crop around ``box`` with side ``factor * sqrt(w * h)``."""
    x, y, w, h = (float(v) for v in box)
    if w <= 0 or h <= 0:
        raise ValueError(f'cannot crop around a box of non-positive size: {list(box)}')
    side = factor * np.sqrt(w * h)
    return CropTransform(x + w / 2, y + h / 2, out_size / side, int(out_size))


def crop(image: np.ndarray, transform: CropTransform, pad_value=0) -> np.ndarray:
    """The ``out_size x out_size`` crop of an ``HxWxC`` image (bilinear, constant border)."""
    return cv2.warpAffine(image, transform.affine(), (transform.out_size, transform.out_size),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=pad_value)


def clip_box(box: Sequence[float], width: int, height: int, min_size: float = 1.0) -> np.ndarray:
    """A box moved and shrunk to lie inside the frame, at least ``min_size`` wide and high."""
    x, y, w, h = (float(v) for v in box)
    x0, y0 = np.clip(x, 0, width - min_size), np.clip(y, 0, height - min_size)
    x1, y1 = np.clip(x + w, x0 + min_size, width), np.clip(y + h, y0 + min_size, height)
    return np.array([x0, y0, x1 - x0, y1 - y0])


def jitter_box(box: Sequence[float], rng: np.random.Generator, centre_jitter: float,
               scale_jitter: float) -> np.ndarray:
    """The box the search region is cropped around during training: its size scaled by
    ``exp(N(0, scale_jitter))``, its centre moved uniformly by up to
    ``centre_jitter * sqrt(w * h) / 2`` (so the target is not always in the middle)."""
    x, y, w, h = (float(v) for v in box)
    size = np.array([w, h]) * np.exp(rng.normal(0, scale_jitter, 2))
    offset = np.sqrt(size.prod()) * centre_jitter * (rng.random(2) - 0.5)
    centre = np.array([x + w / 2, y + h / 2]) + offset
    return np.concatenate([centre - size / 2, size])
