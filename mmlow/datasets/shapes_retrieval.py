"""A retrieval split of the shapes generator: identities seen under changing conditions.

An identity is one object: a shape (4), a body colour (8 hues), a surface texture (solid,
stripes, checker, dots) and, for textured ones, a second colour: 480 identities (see
SWAP_SYMMETRIC). Pentagons and hexagons are left out: at 64x64, blurred, they are a few pixels
from a circle, and a network trained for minutes confused them more than anything else. Each
image shows that object on a new background (shapes.py's textured backgrounds), at a new
position, scale and rotation (the texture turns with the object), under a slightly different
brightness, blurred and noised like the detection set. Identities share colours and shapes
with each other, so neither the colour histogram nor the outline alone tells them apart.

The first ``num_train_identities`` identities form the training split; the rest are the test
split, searched against itself (open set: no test identity is seen in training, as CUB and
SOP). Layout under ``root``::

    images/0000_00.png ...     <identity>_<view>.png
    train.txt, test.txt        "<image path> <identity>" per line
    meta.json                  generation parameters + format version

Files depend only on the parameters; generation is atomic (temporary folder, then rename).
"""
import colorsys
import errno
import itertools
import json
import os
import os.path as osp
import shutil
import uuid
from typing import Dict, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

from mmlow.errors import GeneratedDataError
from .shapes import DRAW_SHIFT, _background, not_generated_yet

FORMAT_VERSION = 2  # 2: four shapes, larger objects, no swap-symmetric twins
SHAPES = ('circle', 'square', 'triangle', 'star')
HUES = tuple(i / 8 for i in range(8))
TEXTURES = ('solid', 'stripes', 'checker', 'dots')
# Textures whose two colours trade places under a rotation (stripes: a half turn; checker: a
# quarter turn): with uniformly random rotations, body A / pattern B and body B / pattern A
# draw the same images, so only one of the two is an identity.
SWAP_SYMMETRIC = ('stripes', 'checker')
# object size (circumscribed diameter) as a fraction of the shorter image side
SIZE_RANGE = (0.55, 0.85)


def identities(num: int, seed: int) -> list:
    """``num`` distinct (shape, body hue, texture, pattern hue) tuples in a seeded order."""
    combos = [(shape, body, texture, pattern)
              for shape, body, texture in itertools.product(range(len(SHAPES)),
                                                            range(len(HUES)),
                                                            range(len(TEXTURES)))
              for pattern in (range(len(HUES)) if texture else [body])
              if texture == 0 or pattern != body
              and not (TEXTURES[texture] in SWAP_SYMMETRIC and pattern < body)]
    if num > len(combos):
        raise ValueError(f'at most {len(combos)} identities exist, asked for {num}')
    order = np.random.default_rng((seed, 1)).permutation(len(combos))[:num]
    return [combos[i] for i in order]


def _colour(hue: float, brightness: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(hue, 0.85, brightness), dtype=np.float32) * 255.0


def _outline(shape: str, radius: float, angle: float) -> np.ndarray:
    """Vertices (relative to the centre) of a polygonal shape."""
    if shape == 'star':
        steps = np.arange(10)
        radii = np.where(steps % 2 == 0, radius, 0.45 * radius)
        angles = angle + np.pi * steps / 5
    else:
        corners = {'square': 4, 'triangle': 3}[shape]
        radii = np.full(corners, radius)
        angles = angle + 2 * np.pi * np.arange(corners) / corners
    return np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)


def render_view(rng: np.random.Generator, identity: Tuple[int, int, int, int],
                img_size: Tuple[int, int]) -> np.ndarray:
    """One BGR uint8 image of the identity."""
    height, width = img_size
    shape, body, texture, pattern = identity
    image = _background(rng, height, width)
    radius = rng.uniform(*SIZE_RANGE) * min(height, width) / 2
    angle = rng.uniform(0, 2 * np.pi)
    centre = rng.uniform([radius, radius], [width - 1 - radius, height - 1 - radius])

    scale = 1 << DRAW_SHIFT
    mask = np.zeros((height, width), np.uint8)
    if SHAPES[shape] == 'circle':
        cv2.circle(mask, tuple(int(c) for c in np.round(centre * scale)),
                   int(round(radius * scale)), 1, -1, cv2.LINE_8, DRAW_SHIFT)
    else:
        vertices = np.round((centre + _outline(SHAPES[shape], radius, angle)) * scale)
        cv2.fillPoly(mask, [vertices.astype(np.int32)], 1, cv2.LINE_8, DRAW_SHIFT)
    mask = mask.astype(bool)

    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    u = (xs - centre[0]) * np.cos(angle) + (ys - centre[1]) * np.sin(angle)
    v = -(xs - centre[0]) * np.sin(angle) + (ys - centre[1]) * np.cos(angle)
    period = radius / 1.5  # the texture scales with the object
    name = TEXTURES[texture]
    if name == 'stripes':
        second = np.floor(u / period) % 2 == 1
    elif name == 'checker':
        second = (np.floor(u / period) + np.floor(v / period)) % 2 == 1
    elif name == 'dots':
        du, dv = (u / period) % 1 - 0.5, (v / period) % 1 - 0.5
        second = du * du + dv * dv < 0.3 ** 2
    else:
        second = np.zeros_like(mask)
    brightness = rng.uniform(0.7, 1.0)
    colours = np.where(second[..., None], _colour(HUES[pattern], brightness),
                       _colour(HUES[body], brightness))
    image[mask] = colours[mask]
    if rng.random() < 0.5:
        image = cv2.GaussianBlur(image, (3, 3), rng.uniform(0.5, 1.0))
    image += rng.normal(0.0, rng.uniform(0.0, 6.0), image.shape)
    # RGB drawn, BGR written: OpenCV's convention
    return np.clip(np.round(image), 0, 255).astype(np.uint8)[..., ::-1]


def _params(num_train_identities, num_test_identities, views, img_size, seed) -> Dict:
    return dict(format_version=FORMAT_VERSION, num_train_identities=int(num_train_identities),
                num_test_identities=int(num_test_identities), views=int(views),
                img_size=[int(img_size[0]), int(img_size[1])], seed=int(seed))


def ensure_shapes_retrieval(root, num_train_identities: int = 150,
                            num_test_identities: int = 150, views: int = 10,
                            img_size: Tuple[int, int] = (64, 64), seed: int = 0) -> str:
    """Generate the split under ``root`` unless it is there with these parameters; refuse a
    copy made with other parameters or an incomplete one."""
    root = osp.abspath(os.fspath(root))
    params = _params(num_train_identities, num_test_identities, views, img_size, seed)
    if not_generated_yet(root):
        _generate(root, params)
        print_log(f'Generated the shapes retrieval split in {root}: '
                  f'{num_train_identities} train / {num_test_identities} test identities x '
                  f'{views} views of {params["img_size"]}.', logger='current')
    meta_file = osp.join(root, 'meta.json')
    if not osp.isfile(meta_file):
        raise GeneratedDataError(f'{root} exists but has no meta.json: not a complete shapes '
                           'retrieval split. Delete the folder to let it be regenerated.')
    with open(meta_file) as f:
        found = json.load(f)
    if found != params:
        raise GeneratedDataError(f'the shapes retrieval split in {root} was made with {found}, not '
                           f'{params}. Delete the folder to regenerate it, or ask for the '
                           'same parameters.')
    return root


def _generate(root: str, params: Dict) -> None:
    num_train = params['num_train_identities']
    chosen = identities(num_train + params['num_test_identities'], params['seed'])
    os.makedirs(osp.dirname(root), exist_ok=True)
    tmp = f'{root}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}'
    os.makedirs(osp.join(tmp, 'images'))
    try:
        lists = dict(train=[], test=[])
        for index, identity in enumerate(chosen):
            for view in range(params['views']):
                rng = np.random.default_rng((params['seed'], index, view))
                name = f'images/{index:04d}_{view:02d}.png'
                cv2.imwrite(osp.join(tmp, name),
                            render_view(rng, identity, tuple(params['img_size'])))
                lists['train' if index < num_train else 'test'].append(f'{name} {index}')
        for split, lines in lists.items():
            with open(osp.join(tmp, f'{split}.txt'), 'w') as f:
                f.write('\n'.join(lines) + '\n')
        with open(osp.join(tmp, 'meta.json'), 'w') as f:
            json.dump(params, f, indent=2)
        try:
            os.rename(tmp, root)
        except OSError as e:  # another process made it meanwhile: keep theirs
            if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    finally:
        if osp.exists(tmp):
            shutil.rmtree(tmp)
