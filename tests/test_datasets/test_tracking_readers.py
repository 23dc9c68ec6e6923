"""Tracking readers on tiny fake sequences in the released layouts, and on broken ones."""
import json
import os

import cv2
import numpy as np
import pytest
import torch

from mmlow.datasets.tracking import (COCOPairsReader, GOT10kReader, LaSOTReader,
                                     TrackingDataError, TrackingNetReader, cover_labels,
                                     ensure_tracking_shapes)
from mmlow.datasets.tracking.readers import TrackingDataError, lasot_split
from mmlow.errors import ConfigError, DataError
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


AIRPLANE_TEST = ['airplane-1', 'airplane-9', 'airplane-13', 'airplane-15']


def test_lasot_shipped_split_is_the_official_protocol():
    from collections import Counter
    test, train = lasot_split('test'), lasot_split('train')
    assert len(test) == len(set(test)) == 280 and len(train) == len(set(train)) == 1120
    assert not set(test) & set(train)
    per_class_test = Counter(name.rsplit('-', 1)[0] for name in test)
    per_class_train = Counter(name.rsplit('-', 1)[0] for name in train)
    assert len(per_class_test) == 70 and set(per_class_test) == set(per_class_train)
    assert set(per_class_test.values()) == {4} and set(per_class_train.values()) == {16}
    assert all(name.rsplit('-', 1)[1] in {str(n) for n in range(1, 21)} for name in test + train)
    assert [n for n in test if n.startswith('airplane-')] == AIRPLANE_TEST


def test_lasot_train_without_root_lists_excludes_the_test_set(tmp_path):
    """The official download has no split list at the root: 'train' must not take all."""
    make_lasot(str(tmp_path), categories=('airplane', ), per_category=20, testing_set=False)
    with pytest.warns(UserWarning, match='1104 of the 1120 sequences.*training on the 16'):
        reader = LaSOTReader(str(tmp_path), 'train')
    assert reader.names == [n for n in lasot_split('train') if n.startswith('airplane-')]
    assert len(reader) == 16 and not set(reader.names) & set(AIRPLANE_TEST)
    reader['airplane-2']
    with pytest.raises(TrackingDataError, match='no LaSOT sequence folder of the train split'):
        LaSOTReader(str(tmp_path / 'airplane'), 'train')


def test_lasot_test_without_root_lists_needs_the_whole_test_set(tmp_path):
    make_lasot(str(tmp_path), categories=('airplane', ), per_category=20, testing_set=False)
    with pytest.raises(TrackingDataError, match='276 of the 280 sequences.*incomplete|'
                       'incomplete.*276 of the 280'):
        LaSOTReader(str(tmp_path), 'test')
    for name in lasot_split('test'):      # the rest of the test set (folders only)
        os.makedirs(tmp_path / name.rsplit('-', 1)[0] / name, exist_ok=True)
    reader = LaSOTReader(str(tmp_path), 'test')
    assert reader.names == lasot_split('test')
    assert reader['airplane-9'].boxes.shape == (6, 4)


def test_lasot_subset_is_explicit(tmp_path):
    make_lasot(str(tmp_path), categories=('airplane', ), per_category=20, testing_set=False)
    for subset in (None, 'val', 'training'):
        with pytest.raises(ConfigError, match="'train', 'test' or 'all'"):
            LaSOTReader(str(tmp_path), subset)
    with pytest.raises(ConfigError, match="subset='all'"):
        LaSOTReader(str(tmp_path), None)
    with pytest.warns(UserWarning, match='all 20 sequence folders.*4 of them from the official'):
        reader = LaSOTReader(str(tmp_path), 'all')
    assert len(reader) == 20


def test_lasot_root_lists_are_used_but_cannot_train_on_test(tmp_path):
    make_lasot(str(tmp_path), categories=('airplane', ), per_category=20, testing_set=False)
    (tmp_path / 'training_set.txt').write_text('airplane-2\nairplane-3\n')
    assert LaSOTReader(str(tmp_path), 'train').names == ['airplane-2', 'airplane-3']
    (tmp_path / 'training_set.txt').write_text('airplane-2\nairplane-9\n')
    with pytest.raises(DataError, match='1 sequences of the official LaSOT test split '
                       r'\(airplane-9\)'):
        LaSOTReader(str(tmp_path), 'train')


def test_trackingnet_chunks_are_checked(tmp_path):
    make_trackingnet(str(tmp_path), chunk='TRAIN_0')
    make_trackingnet(str(tmp_path), chunk='TEST', videos=('vid_t', ))
    with pytest.raises(ConfigError, match='mix TEST with training'):
        TrackingNetReader(str(tmp_path), chunks=('TRAIN_0', 'TEST'))
    for chunks in (('TRAIN_12', ), ('train_0', ), ('TRAIN_0', 'val')):
        with pytest.raises(ConfigError, match='TRAIN_0 .. TRAIN_11 or TEST'):
            TrackingNetReader(str(tmp_path), chunks=chunks)
    assert TrackingNetReader(str(tmp_path), chunks='TRAIN_0').names == ['vid_a', 'vid_b']
    assert TrackingNetReader(str(tmp_path)).names == ['vid_t']


def test_got10k_subset_is_checked(tmp_path):
    make_got10k(str(tmp_path), 'val', num_sequences=1, num_frames=3)
    for subset in ('Val', 'validation', None, 'vottrain'):
        with pytest.raises(ConfigError, match='train, val, test'):
            GOT10kReader(str(tmp_path), subset)


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
                                  template_size=32, search_size=64, brightness_jitter=0.0,
                                  grayscale_prob=0.0, min_frames=1, min_visible_frames=1))
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


def _pair_dataset(root, **overrides):
    make_got10k(str(root), 'train', num_sequences=3, num_frames=30, size=(96, 80))
    return DATASETS.build(dict(dict(type='TrackingPairDataset', samples_per_epoch=6,
                                    sources=[dict(type='GOT10kReader', root=str(root),
                                                  subset='train')],
                                    template_size=32, search_size=64), **overrides))


def test_training_pairs_are_drawn_afresh_every_epoch(tmp_path):
    """The sampler's seed (run seed, epoch, index) decides the pair: another epoch gives other
    crops for the same index, the same epoch again (a resumed run) the same ones; through
    the wrapper that mmlow's runner puts around it, as in training."""
    from mmlow.datasets import SeededDataset, SeededInfiniteSampler, SeededSampler
    dataset = SeededDataset(_pair_dataset(tmp_path))

    def epoch_crops(epoch):
        sampler = SeededSampler(dataset, shuffle=False, seed=0)
        sampler.set_epoch(epoch)
        return [dataset[index]['inputs']['search'] for index in sampler]

    first, second, again = epoch_crops(0), epoch_crops(1), epoch_crops(0)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not any(torch.equal(a, b) for a, b in zip(first, second))
    # an iteration-based stream draws each index afresh at each of its places
    stream = iter(SeededInfiniteSampler(dataset, shuffle=False, seed=0))
    draws = [dataset[next(stream)]['inputs']['search'] for _ in range(12)]
    assert not any(torch.equal(draws[i], draws[i + 6]) for i in range(6))


def test_search_frame_follows_the_template_frame(tmp_path):
    """The reference's 'causal' sampling: a visible search frame after the template frame,
    at most max_interval later; sequences too short for it are not drawn."""
    dataset = _pair_dataset(tmp_path, max_interval=5)
    gaps = set()
    for seed in range(300):
        seq = dataset.sequences[seed % len(dataset.sequences)]
        template, search = dataset._frames(np.random.default_rng(seed), seq)
        valid = seq.visible & (seq.boxes[:, 2] >= 2) & (seq.boxes[:, 3] >= 2)
        assert valid[template] and valid[search] and template < search
        if valid.all():
            gaps.add(search - template)
    # every frame visible: the gap runs over 1..4 (the reference's range excludes max_gap)
    seq = dataset.sequences[0]
    seq.visible[:] = True
    for seed in range(200):
        template, search = dataset._frames(np.random.default_rng(seed), seq)
        gaps.add(search - template)
    assert gaps == {1, 2, 3, 4}
    with pytest.raises(TrackingDataError, match='at least 40 frames'):
        _pair_dataset(tmp_path / 'short', min_frames=40)
