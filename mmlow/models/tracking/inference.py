"""Frame-by-frame tracking: crop, run the network (any backend), decode, map back, clip.

:class:`CropTracker` does the geometry and decoding; the network enters as two functions
(template crop -> features; search crop + features -> score, offset, size maps), so eager
PyTorch and exported graphs (ONNX Runtime) share one tracking loop. Baselines with the same
``init`` / ``track`` interface live here too.
"""
from typing import Callable, Sequence

import cv2
import numpy as np
import torch

from .geometry import clip_box, crop, crop_transform


def hann_window(height: int, width: int) -> np.ndarray:
    """Outer product of Hann windows; never exactly zero, so edge cells stay selectable."""
    return np.outer(np.hanning(height + 2)[1:-1], np.hanning(width + 2)[1:-1])


class CropTracker:
    """Template once, then per frame a search crop around the previous box.

    Args:
        template_fn: (1, 3, t, t) float32 BGR 0..255 array -> template features (array).
        search_fn: (search crop, template features) -> (score probabilities, offsets, sizes),
            arrays of shape (1, 1|2|2, H, W).
    """

    def __init__(self, template_fn: Callable, search_fn: Callable, template_size: int,
                 search_size: int, template_factor: float, search_factor: float):
        self.template_fn, self.search_fn = template_fn, search_fn
        self.template_size, self.search_size = template_size, search_size
        self.template_factor, self.search_factor = template_factor, search_factor
        self.box = None
        self._template_feat = None
        self._window = None

    @staticmethod
    def _to_input(patch: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(patch.transpose(2, 0, 1)[None], dtype=np.float32)

    def init(self, frame: np.ndarray, box: Sequence[float]) -> None:
        self.box = np.asarray(box, dtype=np.float64)
        transform = crop_transform(self.box, self.template_factor, self.template_size)
        self._template_feat = self.template_fn(self._to_input(crop(frame, transform)))

    def track(self, frame: np.ndarray) -> np.ndarray:
        transform = crop_transform(self.box, self.search_factor, self.search_size)
        score, offset, size = self.search_fn(
            self._to_input(crop(frame, transform)), self._template_feat)
        score = np.asarray(score)[0, 0]
        if self._window is None or self._window.shape != score.shape:
            self._window = hann_window(*score.shape)
        height, width = score.shape
        index = int(np.argmax(score * self._window))
        row, col = divmod(index, width)
        offset, size = np.asarray(offset)[0, :, row, col], np.asarray(size)[0, :, row, col]
        cx = (col + offset[0]) / width * self.search_size
        cy = (row + offset[1]) / height * self.search_size
        w, h = size[0] * self.search_size, size[1] * self.search_size
        box = transform.box_from_crop([cx - w / 2, cy - h / 2, w, h])
        self.box = clip_box(box, frame.shape[1], frame.shape[0], min_size=2.0)
        return self.box

    @classmethod
    def from_model(cls, model) -> 'CropTracker':
        """Eager PyTorch on the model's device."""
        model.eval()
        device = next(model.parameters()).device

        @torch.no_grad()
        def template_fn(patch):
            return model.template_features(torch.from_numpy(patch).to(device))

        @torch.no_grad()
        def search_fn(patch, template_feat):
            score, offset, size = model.search_forward(torch.from_numpy(patch).to(device),
                                                       template_feat)
            return (score.sigmoid().cpu().numpy(), offset.cpu().numpy(), size.cpu().numpy())

        return cls(template_fn, search_fn, model.template_size, model.search_size,
                   model.template_factor, model.search_factor)


class StaticTracker:
    """Never moves its first box: the floor any tracker has to beat."""

    def init(self, frame: np.ndarray, box: Sequence[float]) -> None:
        self.box = np.asarray(box, dtype=np.float64)

    def track(self, frame: np.ndarray) -> np.ndarray:
        return self.box


class NCCTracker:
    """Normalised cross-correlation template matching in a window around the previous box
    (fixed template from the first frame, fixed box size)."""

    def __init__(self, search_factor: float = 4.0):
        self.search_factor = search_factor

    def init(self, frame: np.ndarray, box: Sequence[float]) -> None:
        self.box = np.asarray(box, dtype=np.float64)
        x, y, w, h = np.round(self.box).astype(int)
        x, y = max(x, 0), max(y, 0)
        self.template = frame[y:y + max(h, 1), x:x + max(w, 1)].copy()

    def track(self, frame: np.ndarray) -> np.ndarray:
        height, width = frame.shape[:2]
        th, tw = self.template.shape[:2]
        x, y, w, h = self.box
        cx, cy = x + w / 2, y + h / 2
        half = self.search_factor * np.sqrt(w * h) / 2
        x0, y0 = int(max(cx - half, 0)), int(max(cy - half, 0))
        x1, y1 = int(min(cx + half, width)), int(min(cy + half, height))
        region = frame[y0:y1, x0:x1]
        if region.shape[0] < th or region.shape[1] < tw:
            return self.box
        response = cv2.matchTemplate(region, self.template, cv2.TM_CCOEFF_NORMED)
        _, _, _, (best_x, best_y) = cv2.minMaxLoc(response)
        self.box = np.array([x0 + best_x, y0 + best_y, w, h], dtype=np.float64)
        return self.box
