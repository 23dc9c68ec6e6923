"""Synthetic single-object tracking sequences from the shapes generator, in GOT-10k's layout.

Every sequence has a textured background and one target shape that moves (bouncing off the
borders with random accelerations), changes scale and turns, among distractors of the *same*
class in other colours that move too, and an occluder that sweeps across the scene and may
hide the target partly or fully (``cover``/``absence`` labels record how much stays visible).
Ground truth is the target's full (amodal) box. Written as GOT-10k ships it::

    ROOT/{train,val}/list.txt
    ROOT/{train,val}/shapes_{split}_0001/00000001.jpg ... groundtruth.txt absence.label
        cover.label cut_by_image.label meta_info.ini
    ROOT/meta.json      generation parameters + format version

Each sequence is drawn from its own generator seeded by (seed, split, index), so repeated
runs write identical files, and ``val`` never shares a sequence with ``train``.
"""
import os
import os.path as osp
from typing import Dict, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

from ..shapes import (CLASSES, _background, _random_colour, check_params, not_generated_yet,
                      rasterise_shape, shape_outline, write_atomically)
from .readers import write_got10k_meta

FORMAT_VERSION = 1
SPLITS = ('train', 'val')
# target size (side or diameter) as a fraction of the shorter frame side
SIZE_RANGE = (0.12, 0.28)
MAX_SPEED = 3.5           # pixels per frame
JPEG_QUALITY = 92


class _Mover:
    """A shape with a position, velocity, size oscillation and spin."""

    def __init__(self, rng: np.random.Generator, name: str, frame_size: Tuple[int, int],
                 colour: np.ndarray):
        width, height = frame_size
        self.rng, self.name, self.colour = rng, name, colour
        self.base_size = rng.uniform(*SIZE_RANGE) * min(width, height)
        self.scale_amplitude = rng.uniform(0.1, 0.45)
        self.scale_period = rng.uniform(25, 70)
        self.scale_phase = rng.uniform(0, 2 * np.pi)
        self.angle = rng.uniform(0, 2 * np.pi)
        self.spin = rng.uniform(-0.06, 0.06)
        margin = self.base_size
        self.position = rng.uniform([margin, margin], [width - margin, height - margin])
        self.velocity = rng.uniform(-MAX_SPEED, MAX_SPEED, 2)
        self.frame_size = np.array(frame_size, dtype=np.float64)

    def outline(self, t: int):
        size = self.base_size * np.exp(
            self.scale_amplitude * np.sin(2 * np.pi * t / self.scale_period + self.scale_phase))
        return shape_outline(self.name, size, 0.0 if self.name == 'circle' else self.angle)

    def step(self, t: int):
        self.velocity += self.rng.normal(0, 0.35, 2)
        speed = np.linalg.norm(self.velocity)
        if speed > MAX_SPEED:
            self.velocity *= MAX_SPEED / speed
        self.position += self.velocity
        self.angle += self.spin
        _, offsets = self.outline(t)
        low = -offsets.min(axis=0) + 1
        high = self.frame_size - 2 - offsets.max(axis=0)
        for axis in range(2):   # bounce: the shape stays inside the frame
            if self.position[axis] < low[axis]:
                self.position[axis] = 2 * low[axis] - self.position[axis]
                self.velocity[axis] = abs(self.velocity[axis])
            elif self.position[axis] > high[axis]:
                self.position[axis] = 2 * high[axis] - self.position[axis]
                self.velocity[axis] = -abs(self.velocity[axis])
            self.position[axis] = np.clip(self.position[axis], low[axis], high[axis])

    def mask(self, t: int) -> np.ndarray:
        radius, offsets = self.outline(t)
        width, height = (int(v) for v in self.frame_size)
        return rasterise_shape(self.name, self.position, radius, offsets, height, width)


def _occluder(rng: np.random.Generator, frame_size: Tuple[int, int], length: int):
    """A low-saturation bar crossing the frame once, at a random time (or never)."""
    width, height = frame_size
    if rng.random() < 0.25:
        return None
    bar = dict(horizontal=rng.random() < 0.5, thickness=rng.uniform(0.12, 0.3) * min(
        width, height), start=rng.uniform(0, length * 0.6), speed=rng.uniform(1.5, 4.0),
               colour=_random_colour(rng, sat=(0.0, 0.3), val=(0.2, 0.8)))
    return bar


def _occluder_mask(bar, t: int, frame_size: Tuple[int, int]) -> np.ndarray:
    width, height = frame_size
    mask = np.zeros((height, width), dtype=bool)
    if bar is None:
        return mask
    extent = width if bar['horizontal'] else height
    front = (t - bar['start']) * bar['speed'] - bar['thickness']
    lo, hi = int(max(front, 0)), int(min(front + bar['thickness'], extent))
    if hi <= lo:
        return mask
    if bar['horizontal']:
        mask[:, lo:hi] = True
    else:
        mask[lo:hi, :] = True
    return mask


def _box(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1],
                    dtype=np.float64)


def render_sequence(rng: np.random.Generator, length: int, frame_size: Tuple[int, int]):
    """Frames (BGR uint8) and per-frame (box, visible fraction) of one sequence."""
    width, height = frame_size
    background = _background(rng, height, width)
    name = CLASSES[int(rng.integers(len(CLASSES)))]
    target = _Mover(rng, name, frame_size, _random_colour(rng, (0.7, 1.0), (0.65, 1.0)))
    distractors = [
        _Mover(rng, name, frame_size, _random_colour(rng, (0.7, 1.0), (0.65, 1.0)))
        for _ in range(int(rng.integers(1, 3)))
    ]
    # the target is drawn among the distractors: some pass in front of it
    layers = distractors + [target]
    order = rng.permutation(len(layers))
    layers = [layers[i] for i in order]
    occluder = _occluder(rng, frame_size, length)
    noise_sigma = rng.uniform(0.0, 5.0)
    frames, boxes, visible = [], [], []
    for t in range(length):
        image = background.copy()
        target_mask = None
        for mover in layers:
            if t:
                mover.step(t)
            mask = mover.mask(t)
            image[mask] = mover.colour
            if mover is target:
                target_mask = mask
                target_visible = mask.copy()
            elif target_mask is not None:
                target_visible &= ~mask
        bar_mask = _occluder_mask(occluder, t, frame_size)
        if occluder is not None:
            image[bar_mask] = occluder['colour']
        target_visible &= ~bar_mask
        image = image + rng.normal(0.0, noise_sigma, image.shape)
        frames.append(np.clip(np.round(image), 0, 255).astype(np.uint8))
        boxes.append(_box(target_mask))
        visible.append(target_visible.sum() / max(target_mask.sum(), 1))
    return frames, np.stack(boxes), np.array(visible)


def cover_labels(visible_fraction: np.ndarray) -> np.ndarray:
    """GOT-10k's 0..8 cover scale: 0 fully hidden, 8 fully visible."""
    return np.where(visible_fraction <= 0, 0,
                    np.clip(np.ceil(visible_fraction * 8), 1, 8)).astype(int)


def _params(num_train, num_val, length, frame_size, seed) -> Dict:
    return dict(format_version=FORMAT_VERSION, kind='tracking', num_train=int(num_train),
                num_val=int(num_val), length=int(length),
                frame_size=[int(frame_size[0]), int(frame_size[1])], seed=int(seed))


def _write_split(out_dir: str, split: str, split_code: int, params: Dict) -> None:
    split_dir = osp.join(out_dir, split)
    os.makedirs(split_dir)
    names = []
    frame_size = tuple(params['frame_size'])
    for index in range(params[f'num_{split}']):
        rng = np.random.default_rng((params['seed'], split_code, index))
        frames, boxes, visible = render_sequence(rng, params['length'], frame_size)
        name = f'shapes_{split}_{index + 1:04d}'
        seq_dir = osp.join(split_dir, name)
        os.makedirs(seq_dir)
        for t, frame in enumerate(frames):
            cv2.imwrite(osp.join(seq_dir, f'{t + 1:08d}.jpg'), frame,
                        [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        cover = cover_labels(visible)
        np.savetxt(osp.join(seq_dir, 'groundtruth.txt'), boxes, fmt='%.4f', delimiter=',')
        np.savetxt(osp.join(seq_dir, 'cover.label'), cover, fmt='%d')
        np.savetxt(osp.join(seq_dir, 'absence.label'), (cover == 0).astype(int), fmt='%d')
        np.savetxt(osp.join(seq_dir, 'cut_by_image.label'), np.zeros(len(frames)), fmt='%d')
        write_got10k_meta(seq_dir, *frame_size)
        names.append(name)
    with open(osp.join(split_dir, 'list.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')


def ensure_tracking_shapes(root: str, num_train: int = 120, num_val: int = 20,
                           length: int = 60, frame_size: Tuple[int, int] = (160, 160),
                           seed: int = 0) -> str:
    """Generate the sequences into ``root`` on first use; check the parameters otherwise.

    ``frame_size`` is (width, height). Raises ``RuntimeError`` when ``root`` holds another
    version or other parameters (delete it to regenerate).
    """
    root = osp.abspath(root)
    params = _params(num_train, num_val, length, frame_size, seed)
    if not_generated_yet(root):

        def write(tmp_dir: str) -> None:
            for split_code, split in enumerate(SPLITS):
                _write_split(tmp_dir, split, split_code, params)

        write_atomically(root, params, write)
        print_log(f'Synthetic tracking sequences in {root}: {num_train} train, {num_val} val',
                  logger='current')
    check_params(root, params)
    return root
