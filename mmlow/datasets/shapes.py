"""Deterministic generator for a small synthetic "shapes" dataset.

The dataset gives the suite a detection / instance / semantic segmentation
task that needs no download and is learnable from scratch in a few CPU
minutes. Layout under ``root``::

    train/000000.png ...               RGB images (written as BGR by OpenCV)
    val/000000.png ...
    annotations/instances_train.json   COCO instances (bbox + polygons)
    annotations/instances_val.json
    semantic/train/000000.png ...      uint8 label maps, 0 = background,
    semantic/val/000000.png ...        k = 1 + index of the class in CLASSES
    meta.json                          generation parameters + format version

Every image is drawn from its own random generator seeded by
``(seed, split, index)``, so the bytes of a file depend only on the
parameters and its own index, and repeated runs give identical files.
"""
import colorsys
import errno
import inspect
import json
import os
import os.path as osp
import shutil
import uuid
from typing import Callable, Dict, List, Tuple, Union

import cv2
import numpy as np
from mmengine.logging import print_log
from tqdm import tqdm

from mmlow.errors import GeneratedDataError

CLASSES = ('circle', 'square', 'triangle')

# Bump whenever the generated content changes, so that ``ensure_shapes``
# refuses a stale copy instead of silently mixing two versions.
FORMAT_VERSION = 1

SPLITS = ('train', 'val')

# Default shape size range as a fraction of the shorter image side: circle
# diameter, square side or triangle side.
SIZE_RANGE = (0.15, 0.45)
MAX_SHAPES = 4
# A placement is rejected when it covers more than this fraction of either
# its own or an existing shape's area.
MAX_OVERLAP = 0.10
PLACEMENT_TRIES = 50
# Sub-pixel precision of the vertices given to OpenCV's drawing functions.
DRAW_SHIFT = 4

PathLike = Union[str, os.PathLike]


class _Instance:
    """One drawn shape: its class, full mask and currently visible mask."""

    def __init__(self, label: int, mask: np.ndarray) -> None:
        self.label = label
        self.mask = mask
        self.visible = mask.copy()


def _random_colour(rng: np.random.Generator, sat: Tuple[float, float],
                   val: Tuple[float, float]) -> np.ndarray:
    """Random colour with saturation and value drawn from the given ranges."""
    rgb = colorsys.hsv_to_rgb(
        rng.uniform(0.0, 1.0), rng.uniform(*sat), rng.uniform(*val))
    return np.array(rgb, dtype=np.float32) * 255.0


def _normalise(field: np.ndarray) -> np.ndarray:
    """Stretch a field to [0, 1] (constant fields become 0)."""
    low, high = field.min(), field.max()
    if high - low < 1e-6:
        return np.zeros_like(field)
    return (field - low) / (high - low)


def _background(rng: np.random.Generator, height: int,
                width: int) -> np.ndarray:
    """Textured, low-to-medium contrast background as float32 HxWx3.

    A mix of a linear gradient, low-frequency noise and a stripe or checker
    pattern interpolates between two weakly saturated colours, so that the
    detector has to separate shapes from clutter but the saturated shapes
    stay clearly visible.
    """
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)

    angle = rng.uniform(0.0, 2.0 * np.pi)
    gradient = _normalise(xs * np.cos(angle) + ys * np.sin(angle))

    grid = rng.random((rng.integers(2, 8), rng.integers(2, 8)))
    noise = _normalise(
        cv2.resize(grid.astype(np.float32), (width, height),
                   interpolation=cv2.INTER_CUBIC))

    angle = rng.uniform(0.0, np.pi)
    period = rng.uniform(6.0, 24.0)
    u = xs * np.cos(angle) + ys * np.sin(angle)
    if rng.random() < 0.5:
        phase = rng.uniform(0.0, 2.0 * np.pi)
        pattern = 0.5 + 0.5 * np.sin(2.0 * np.pi * u / period + phase)
    else:
        v = -xs * np.sin(angle) + ys * np.cos(angle)
        pattern = (np.floor(u / period) + np.floor(v / period)) % 2.0

    weights = rng.random(3) * np.array([1.0, 1.0, 0.5])
    weights /= weights.sum()
    field = (weights[0] * gradient + weights[1] * noise +
             weights[2] * pattern)

    colour_a = _random_colour(rng, sat=(0.0, 0.45), val=(0.25, 0.85))
    colour_b = np.clip(colour_a + rng.uniform(-70.0, 70.0, 3), 0.0, 255.0)
    return (colour_a * (1.0 - field[..., None]) +
            colour_b * field[..., None]).astype(np.float32)


def shape_outline(name: str, size: float, angle: float) -> Tuple[float, np.ndarray]:
    """(radius, vertex offsets from the centre) of a shape of class ``name`` and side (or
    diameter) ``size``; a circle's offsets are its bounding-box corners."""
    if name == 'circle':
        radius = size / 2.0
        return radius, np.array([[-radius, -radius], [radius, radius]])
    num_vertices = 4 if name == 'square' else 3
    # Circumradius of a regular polygon with side ``size``.
    radius = size / (2.0 * np.sin(np.pi / num_vertices))
    angles = angle + 2.0 * np.pi * np.arange(num_vertices) / num_vertices
    return radius, radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def rasterise_shape(name: str, centre: np.ndarray, radius: float, offsets: np.ndarray,
                    height: int, width: int) -> np.ndarray:
    """Boolean mask of a shape placed at ``centre`` (sub-pixel precise)."""
    scale = 1 << DRAW_SHIFT
    mask = np.zeros((height, width), dtype=np.uint8)
    if name == 'circle':
        cv2.circle(mask, tuple(int(c) for c in np.round(centre * scale)),
                   int(round(radius * scale)), 1, thickness=-1,
                   lineType=cv2.LINE_8, shift=DRAW_SHIFT)
    else:
        vertices = np.round((centre + offsets) * scale).astype(np.int32)
        cv2.fillPoly(mask, [vertices], 1, lineType=cv2.LINE_8,
                     shift=DRAW_SHIFT)
    return mask.astype(bool)


def _shape_mask(rng: np.random.Generator, label: int, height: int,
                width: int, size_range: Tuple[float, float]) -> np.ndarray:
    """Mask of one shape of class ``label`` with random size, pose and
    position, lying fully inside the image."""
    size = rng.uniform(*size_range) * min(height, width)
    name = CLASSES[label]
    angle = 0.0 if name == 'circle' else rng.uniform(0.0, 2.0 * np.pi)
    radius, offsets = shape_outline(name, size, angle)
    low = -offsets.min(axis=0)
    high = np.array([width - 1.0, height - 1.0]) - offsets.max(axis=0)
    centre = rng.uniform(low, high)
    return rasterise_shape(name, centre, radius, offsets, height, width)


def _is_connected(mask: np.ndarray) -> bool:
    """Whether a non-empty mask forms one 4-connected region."""
    num_labels, _ = cv2.connectedComponents(
        mask.astype(np.uint8), connectivity=4)
    return num_labels == 2


def _accepts(new_mask: np.ndarray, instances: List[_Instance]) -> bool:
    """Whether ``new_mask`` can be drawn on top of ``instances``.

    Rejects heavy overlap and any occlusion that would split an earlier
    instance, so every visible mask stays one region with one outline.
    """
    new_area = new_mask.sum()
    for inst in instances:
        overlap = np.logical_and(new_mask, inst.mask).sum()
        if overlap > MAX_OVERLAP * min(new_area, inst.mask.sum()):
            return False
        if overlap and not _is_connected(inst.visible & ~new_mask):
            return False
    return True


def _render_sample(
        rng: np.random.Generator, height: int, width: int,
        size_range: Tuple[float, float]
) -> Tuple[np.ndarray, np.ndarray, List[_Instance]]:
    """Draw one image; returns (BGR uint8 image, semantic map, instances)."""
    image = _background(rng, height, width)
    semantic = np.zeros((height, width), dtype=np.uint8)
    instances: List[_Instance] = []
    for _ in range(rng.integers(1, MAX_SHAPES + 1)):
        label = int(rng.integers(len(CLASSES)))
        colour = _random_colour(rng, sat=(0.7, 1.0), val=(0.65, 1.0))
        for _ in range(PLACEMENT_TRIES):
            mask = _shape_mask(rng, label, height, width, size_range)
            if _accepts(mask, instances):
                break
        else:
            continue
        for inst in instances:
            inst.visible &= ~mask
        instances.append(_Instance(label, mask))
        image[mask] = colour
        semantic[mask] = label + 1

    if rng.random() < 0.5:
        image = cv2.GaussianBlur(image, (3, 3), rng.uniform(0.5, 1.0))
    image += rng.normal(0.0, rng.uniform(0.0, 6.0), image.shape)
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    return image, semantic, instances


def _polygons(mask: np.ndarray) -> List[List[float]]:
    """COCO polygons of a mask's outer contours, largest first.

    A contour of the mask itself runs through the centres of its boundary
    pixels, so rasterising it drops about half of every boundary pixel.
    Tracing the 2x upsampled mask puts the outline a quarter pixel inside
    the pixel edges instead, and the polygons then rasterise back to the
    mask itself. The slight simplification keeps this property but removes
    a third of the points. Coordinates are multiples of 0.25, so they are
    exact in JSON.
    """
    upsampled = cv2.resize(
        mask.astype(np.uint8), None, fx=2, fy=2,
        interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(
        upsampled, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contours = [cv2.approxPolyDP(c, 0.5, closed=True) for c in contours]
    contours = sorted(contours, key=cv2.contourArea, reverse=True)
    return [((c.reshape(-1) + 0.5) / 2.0).tolist() for c in contours
            if len(c) >= 3]


def _annotation(inst: _Instance, ann_id: int, image_id: int) -> Dict:
    """COCO annotation of an instance's visible part."""
    ys, xs = np.nonzero(inst.visible)
    x0, y0 = int(xs.min()), int(ys.min())
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=inst.label + 1,
        bbox=[x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1],
        area=int(len(xs)),
        iscrowd=0,
        segmentation=_polygons(inst.visible))


def _params(num_train: int, num_val: int, img_size: Tuple[int, int],
            seed: int, size_range: Tuple[float, float]) -> Dict:
    """Everything that determines the generated bytes, as stored in
    ``meta.json``."""
    return dict(
        format_version=FORMAT_VERSION,
        classes=list(CLASSES),
        num_train=int(num_train),
        num_val=int(num_val),
        img_size=[int(img_size[0]), int(img_size[1])],
        size_range=[float(size_range[0]), float(size_range[1])],
        seed=int(seed))


def _write_split(out_dir: str, split: str, split_code: int, params: Dict,
                 progress_bar: tqdm) -> None:
    """Write one split's images, semantic maps and COCO json."""
    image_dir = osp.join(out_dir, split)
    semantic_dir = osp.join(out_dir, 'semantic', split)
    os.makedirs(image_dir)
    os.makedirs(semantic_dir)
    height, width = params['img_size']
    images, annotations = [], []
    for index in range(params[f'num_{split}']):
        rng = np.random.default_rng((params['seed'], split_code, index))
        image, semantic, instances = _render_sample(rng, height, width,
                                                    params['size_range'])
        file_name = f'{index:06d}.png'
        cv2.imwrite(osp.join(image_dir, file_name), image)
        cv2.imwrite(osp.join(semantic_dir, file_name), semantic)
        # 1-based ids: some COCO tooling treats id 0 as "missing".
        image_id = index + 1
        images.append(
            dict(id=image_id, file_name=file_name, height=height,
                 width=width))
        for inst in instances:
            annotations.append(
                _annotation(inst, len(annotations) + 1, image_id))
        progress_bar.update()

    coco = dict(
        images=images,
        annotations=annotations,
        categories=[
            dict(id=i + 1, name=name, supercategory='shape')
            for i, name in enumerate(CLASSES)
        ])
    with open(osp.join(out_dir, 'annotations', f'instances_{split}.json'),
              'w') as f:
        json.dump(coco, f)


def not_generated_yet(root: str) -> bool:
    """``root`` is missing or an empty folder: the generated data goes there."""
    return not osp.exists(root) or (osp.isdir(root) and not os.listdir(root))


def write_atomically(root: str, params: Dict, write: Callable[[str], None]) -> None:
    """Run ``write`` on a temporary sibling folder, add ``meta.json`` with ``params`` and
    rename the folder to ``root``, so ``root`` is never seen half-written. If another process
    created ``root`` meanwhile, its copy is kept and ours discarded."""
    os.makedirs(osp.dirname(root), exist_ok=True)
    tmp_dir = f'{root}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}'
    os.makedirs(tmp_dir)
    try:
        write(tmp_dir)
        with open(osp.join(tmp_dir, 'meta.json'), 'w') as f:
            json.dump(params, f, indent=2)
        try:
            os.rename(tmp_dir, root)
        except OSError as e:
            # Lost a race against another process generating the same root.
            if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    finally:
        if osp.exists(tmp_dir):
            shutil.rmtree(tmp_dir)


def generate_shapes(root: PathLike,
                    num_train: int = 800,
                    num_val: int = 100,
                    img_size: Tuple[int, int] = (192, 192),
                    seed: int = 0,
                    size_range: Tuple[float, float] = SIZE_RANGE,
                    progress: bool = True) -> str:
    """Generate the dataset into ``root`` (which must not exist yet, or be an empty folder).

    Everything is written into a temporary sibling folder that is renamed to
    ``root`` at the end, so ``root`` is never seen half-written. If another
    process created ``root`` meanwhile, its copy is kept and ours discarded.

    Args:
        root: Output folder.
        num_train: Number of training images.
        num_val: Number of validation images.
        img_size: Image size as (height, width).
        size_range: Range of the shape size as a fraction of the shorter
            image side.
        seed: Base seed; together with split and index it seeds each image.
        progress: Show a progress bar.

    Returns:
        ``root`` as a string.
    """
    root = osp.abspath(os.fspath(root))
    if not not_generated_yet(root):
        raise FileExistsError(
            f'{root} already exists; delete it to regenerate the dataset.')
    params = _params(num_train, num_val, img_size, seed, size_range)

    def write(tmp_dir: str) -> None:
        os.makedirs(osp.join(tmp_dir, 'annotations'))
        with tqdm(total=num_train + num_val, desc='Generating shapes',
                  unit='img', disable=not progress) as progress_bar:
            for split_code, split in enumerate(SPLITS):
                _write_split(tmp_dir, split, split_code, params,
                             progress_bar)

    write_atomically(root, params, write)
    return root


def check_params(root: str, params: Dict) -> None:
    """Raise if ``root`` does not hold a complete dataset made with
    ``params``."""
    meta_file = osp.join(root, 'meta.json')
    if not osp.isfile(meta_file):
        raise GeneratedDataError(
            f'{root} exists but has no meta.json, so it is not a complete '
            'generated dataset. Delete the folder to let it be regenerated.')
    with open(meta_file) as f:
        found = json.load(f)
    if found != params:
        diff = {
            key: (found.get(key), value)
            for key, value in params.items() if found.get(key) != value
        }
        raise GeneratedDataError(
            f'The dataset in {root} was generated with different '
            f'parameters (key: (found, requested)): {diff}. Delete the '
            'folder to let it be regenerated, or request the same '
            'parameters.')


def ensure_shapes(root: PathLike, progress: bool = True, **params) -> str:
    """Make sure ``root`` holds the dataset for ``params`` (those of :func:`generate_shapes`,
    with its defaults).

    Generates it when ``root`` is missing or an empty folder; does nothing when it already
    matches; raises ``GeneratedDataError`` when ``root`` is incomplete or was made
    with other parameters, leaving the existing data untouched.

    Returns:
        ``root`` as a string.
    """
    root = osp.abspath(os.fspath(root))
    defaults = inspect.signature(generate_shapes).parameters
    unknown = set(params) - set(defaults) - {'root'}
    if unknown:
        raise TypeError(f'unknown shapes generator parameters {sorted(unknown)}; known: '
                        f'{sorted(set(defaults) - {"root", "progress"})}')
    full = {name: params.get(name, p.default) for name, p in defaults.items()
            if name not in ('root', 'progress')}
    expected = _params(**full)
    if not_generated_yet(root):
        try:
            generate_shapes(root, progress=progress, **full)
            print_log(
                f'Generated shapes dataset in {root}: {full["num_train"]} train and '
                f'{full["num_val"]} val images of size {expected["img_size"]}.',
                logger='current')
        except FileExistsError:
            pass  # Another process created it meanwhile; checked below.
    # Also verifies a copy written by a process that won the race.
    check_params(root, expected)
    return root
