"""Tracking readers on tiny fake sequences in the released layouts, and on broken ones."""
import json
import os

import cv2
import numpy as np
import pytest

from mmlow.datasets.tracking import (COCOPairsReader, GOT10kReader, LaSOTReader,
                                     TrackingDataError, TrackingNetReader, cover_labels,
                                     ensure_tracking_shapes)
from mmlow.registry import DATASETS
from tests.tracking_fakes import make_got10k, make_lasot, make_trackingnet


def test_got10k_reader(tmp_path):
    truth = make_got10k(str(tmp_path), 'val', num_sequences=2, num_frames=5)
    reader = GOT10kReader(str(tmp_path), 'val')
    assert reader.names == list(truth)
    seq = reader[1]
    boxes, cover = truth[seq.name]
    np.testing.assert_allclose(seq.boxes, boxes)
    np.testing.assert_array_equal(seq.cover, cover)
    np.testing.assert_array_equal(seq.visible, cover > 0)
    assert len(seq.frames) == 5 and seq.frames[0].endswith('00000001.jpg')
    assert seq.size() == (48, 40)


@pytest.mark.parametrize('breakage, message', [
    ('list', 'list.txt'), ('folder', 'sequence folder'), ('groundtruth', 'groundtruth'),
    ('cover', 'cover.label'), ('short_gt', 'has 4 boxes but'), ('frames', 'no frames'),
])
def test_got10k_reader_names_what_is_missing(tmp_path, breakage, message):
    truth = make_got10k(str(tmp_path), 'val', num_sequences=1, num_frames=5)
    seq_dir = tmp_path / 'val' / next(iter(truth))
    if breakage == 'list':
        (tmp_path / 'val' / 'list.txt').unlink()
    elif breakage == 'folder':
        os.rename(seq_dir, str(seq_dir) + '_moved')
    elif breakage == 'groundtruth':
        (seq_dir / 'groundtruth.txt').unlink()
    elif breakage == 'cover':
        (seq_dir / 'cover.label').unlink()
    elif breakage == 'short_gt':
        lines = (seq_dir / 'groundtruth.txt').read_text().splitlines()
        (seq_dir / 'groundtruth.txt').write_text('\n'.join(lines[:4]))
    elif breakage == 'frames':
        for frame in seq_dir.glob('*.jpg'):
            frame.unlink()
    with pytest.raises(TrackingDataError, match=message):
        reader = GOT10kReader(str(tmp_path), 'val')
        reader[0]


def test_corrupt_frame_is_named(tmp_path):
    from mmlow.datasets.tracking import read_image
    truth = make_got10k(str(tmp_path), 'val', num_sequences=1, num_frames=3)
    frame = tmp_path / 'val' / next(iter(truth)) / '00000002.jpg'
    frame.write_bytes(b'not a jpeg')
    with pytest.raises(TrackingDataError, match='00000002.jpg.*cannot be decoded'):
        read_image(str(frame))


def test_lasot_reader(tmp_path):
    truth = make_lasot(str(tmp_path))
    reader = LaSOTReader(str(tmp_path), 'test')
    assert sorted(reader.names) == sorted(truth)
    seq = reader['kite-2']
    np.testing.assert_allclose(seq.boxes, truth['kite-2'][0])
    np.testing.assert_array_equal(seq.visible, truth['kite-2'][1])
    (tmp_path / 'cat' / 'cat-1' / 'out_of_view.txt').unlink()
    with pytest.raises(TrackingDataError, match='out_of_view.txt'):
        reader['cat-1']
    with pytest.raises(TrackingDataError, match='no LaSOT sequence'):
        os.remove(tmp_path / 'testing_set.txt')
        LaSOTReader(str(tmp_path / 'cat' / 'cat-1'), 'test')


def test_trackingnet_reader(tmp_path):
    truth = make_trackingnet(str(tmp_path))
    reader = TrackingNetReader(str(tmp_path), chunks=('TRAIN_0', ))
    seq = reader['vid_b']
    np.testing.assert_allclose(seq.boxes, truth['vid_b'])
    assert [os.path.basename(f) for f in seq.frames] == [f'{i}.jpg' for i in range(5)]
    with pytest.raises(TrackingDataError, match='TRAIN_3/anno'):
        TrackingNetReader(str(tmp_path), chunks=('TRAIN_3', ))


def test_coco_pairs_reader(tmp_path):
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'val2017').mkdir()
    cv2.imwrite(str(tmp_path / 'val2017' / 'a.jpg'), np.zeros((30, 40, 3), np.uint8))
    coco = dict(images=[dict(id=1, file_name='a.jpg', width=40, height=30)],
                annotations=[dict(id=5, image_id=1, bbox=[1, 2, 20, 10], iscrowd=0),
                             dict(id=6, image_id=1, bbox=[1, 2, 3, 3], iscrowd=0),
                             dict(id=7, image_id=1, bbox=[1, 2, 20, 10], iscrowd=1)])
    (tmp_path / 'annotations' / 'instances_val2017.json').write_text(json.dumps(coco))
    reader = COCOPairsReader(str(tmp_path), 'val2017')
    assert reader.names == ['coco_5']     # tiny and crowd objects are skipped
    seq = reader[0]
    np.testing.assert_allclose(seq.boxes, [[1, 2, 20, 10]])
    assert seq.size() == (40, 30)
    with pytest.raises(TrackingDataError, match='instances_train2017.json'):
        COCOPairsReader(str(tmp_path), 'train2017')


def test_synthetic_sequences_are_deterministic_and_move(tmp_path):
    params = dict(num_train=2, num_val=1, length=12, frame_size=(96, 80), seed=3)
    root_a = ensure_tracking_shapes(str(tmp_path / 'a'), **params)
    root_b = ensure_tracking_shapes(str(tmp_path / 'b'), **params)
    for split in ('train', 'val'):
        reader_a, reader_b = GOT10kReader(root_a, split), GOT10kReader(root_b, split)
        assert reader_a.names == reader_b.names
        for seq_a, seq_b in zip(reader_a, reader_b):
            np.testing.assert_array_equal(seq_a.boxes, seq_b.boxes)
            for frame_a, frame_b in zip(seq_a.frames, seq_b.frames):
                assert open(frame_a, 'rb').read() == open(frame_b, 'rb').read()
            assert seq_a.size() == (96, 80)
            centres = seq_a.boxes[:, :2] + seq_a.boxes[:, 2:] / 2
            assert np.abs(np.diff(centres, axis=0)).sum() > 5   # the target moves
    assert GOT10kReader(root_a, 'train').names != GOT10kReader(root_a, 'val').names
    with pytest.raises(RuntimeError, match='generated with different parameters'):
        ensure_tracking_shapes(root_a, **dict(params, seed=4))


def test_cover_labels():
    np.testing.assert_array_equal(cover_labels(np.array([0.0, 0.01, 0.5, 0.99, 1.0])),
                                  [0, 1, 4, 8, 8])


def test_training_pairs_put_the_target_where_the_label_says(tmp_path):
    """The labelled box in the search crop covers the target's colour (checks the sampler's
    crop geometry end to end on a frame with one flat-coloured square)."""
    make_got10k(str(tmp_path), 'train', num_sequences=1, num_frames=3, size=(120, 100))
    seq_dir = next((tmp_path / 'train').glob('GOT*'))
    boxes = np.array([[30, 20, 24, 18], [40, 30, 24, 18], [50, 40, 24, 18]], dtype=float)
    for index, (x, y, w, h) in enumerate(boxes.astype(int)):
        image = np.full((100, 120, 3), 60, np.uint8)
        image[y:y + h, x:x + w] = (0, 0, 255)
        cv2.imwrite(str(seq_dir / f'{index + 1:08d}.jpg'), image)
    np.savetxt(seq_dir / 'groundtruth.txt', boxes, delimiter=',')
    np.savetxt(seq_dir / 'cover.label', [8, 8, 8], fmt='%d')
    np.savetxt(seq_dir / 'absence.label', [0, 0, 0], fmt='%d')
    dataset = DATASETS.build(dict(type='TrackingPairDataset', samples_per_epoch=8,
                                  sources=[dict(type='GOT10kReader', root=str(tmp_path),
                                                subset='train')],
                                  template_size=32, search_size=64, brightness_jitter=0.0))
    for index in range(8):
        sample = dataset[index]
        search = sample['inputs']['search'].numpy().transpose(1, 2, 0)
        cx, cy, w, h = sample['data_samples']['search_box'].numpy() * 64
        inner = search[int(cy - h / 2) + 2:int(cy + h / 2) - 1,
                       int(cx - w / 2) + 2:int(cx + w / 2) - 1]
        assert inner.size and (inner[..., 2] > 200).all() and (inner[..., 0] < 60).all()
        red = (search[..., 2] > 200) & (search[..., 0] < 60)
        ys, xs = np.nonzero(red)
        assert abs(xs.mean() + 0.5 - cx) < 1.0 and abs(ys.mean() + 0.5 - cy) < 1.0
