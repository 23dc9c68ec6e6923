"""Tiny tracking datasets written in the released layouts, for reader and metric tests."""
import os
import os.path as osp

import cv2
import numpy as np

from mmlow.datasets.tracking import write_got10k_meta


def _write_frames(folder, num_frames, size=(48, 40), pattern='{:08d}.jpg', start=1):
    os.makedirs(folder, exist_ok=True)
    width, height = size
    for index in range(num_frames):
        image = np.full((height, width, 3), 40 * (index % 6), dtype=np.uint8)
        cv2.imwrite(osp.join(folder, pattern.format(index + start)), image)


def random_boxes(rng, num_frames, size=(48, 40)):
    """Boxes that sometimes stick out of the image, as real annotations and results do."""
    width, height = size
    xy = rng.uniform(-8, [width - 4, height - 4], size=(num_frames, 2))
    wh = rng.uniform(3, [width / 2, height / 2], size=(num_frames, 2))
    return np.round(np.concatenate([xy, wh], axis=1), 3)


def make_got10k(root, subset='val', num_sequences=3, num_frames=7, seed=0, size=(48, 40)):
    """GOT-10k layout; returns {name: (boxes, cover)}. Some frames have cover 0 (absent)."""
    rng = np.random.default_rng(seed)
    names = [f'GOT-10k_{subset.capitalize()}_{i + 1:06d}' for i in range(num_sequences)]
    os.makedirs(osp.join(root, subset), exist_ok=True)
    with open(osp.join(root, subset, 'list.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    truth = {}
    for index, name in enumerate(names):
        seq_dir = osp.join(root, subset, name)
        _write_frames(seq_dir, num_frames, size)
        boxes = random_boxes(rng, num_frames, size)
        cover = rng.integers(0, 9, num_frames)
        cover[0] = 8
        absence = (cover == 0).astype(int)
        np.savetxt(osp.join(seq_dir, 'groundtruth.txt'), boxes, fmt='%.4f', delimiter=',')
        np.savetxt(osp.join(seq_dir, 'cover.label'), cover, fmt='%d')
        np.savetxt(osp.join(seq_dir, 'absence.label'), absence, fmt='%d')
        np.savetxt(osp.join(seq_dir, 'cut_by_image.label'), np.zeros(num_frames), fmt='%d')
        write_got10k_meta(seq_dir, *size)
        truth[name] = (boxes, cover)
    return truth


def make_lasot(root, categories=('cat', 'kite'), per_category=2, num_frames=6, seed=0,
               size=(48, 40), testing_set=True):
    """LaSOT layout; returns {name: (boxes, visible)}. ``testing_set``: also write
    ``ROOT/testing_set.txt`` listing every fake sequence (the official download has no split
    list at the root: pass False to get that layout)."""
    rng = np.random.default_rng(seed)
    truth = {}
    for category in categories:
        for n in range(1, per_category + 1):
            name = f'{category}-{n}'
            seq_dir = osp.join(root, category, name)
            _write_frames(osp.join(seq_dir, 'img'), num_frames, size)
            boxes = np.abs(random_boxes(rng, num_frames, size))
            occluded = (rng.random(num_frames) < 0.2).astype(int)
            out_of_view = (rng.random(num_frames) < 0.2).astype(int)
            occluded[0] = out_of_view[0] = 0
            np.savetxt(osp.join(seq_dir, 'groundtruth.txt'), boxes, fmt='%.4f', delimiter=',')
            for file_name, flags in (('full_occlusion.txt', occluded),
                                     ('out_of_view.txt', out_of_view)):
                with open(osp.join(seq_dir, file_name), 'w') as f:
                    f.write(','.join(str(v) for v in flags))
            truth[name] = (boxes, (occluded == 0) & (out_of_view == 0))
    if testing_set:
        with open(osp.join(root, 'testing_set.txt'), 'w') as f:
            f.write('\n'.join(truth) + '\n')
    return truth


def make_trackingnet(root, chunk='TRAIN_0', videos=('vid_a', 'vid_b'), num_frames=5, seed=0):
    rng = np.random.default_rng(seed)
    truth = {}
    for video in videos:
        _write_frames(osp.join(root, chunk, 'frames', video), num_frames, pattern='{}.jpg',
                      start=0)
        boxes = np.abs(random_boxes(rng, num_frames))
        os.makedirs(osp.join(root, chunk, 'anno'), exist_ok=True)
        np.savetxt(osp.join(root, chunk, 'anno', f'{video}.txt'), boxes, fmt='%.4f',
                   delimiter=',')
        truth[video] = boxes
    return truth
