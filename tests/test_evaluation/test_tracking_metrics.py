"""Tracking metrics against the official GOT-10k toolkit (``got10k`` 0.1.3) on the same result
files, and against values computed by hand on fixed boxes."""
import os.path as osp
import re

import matplotlib
import numpy as np
import pytest

from mmlow.errors import DataError
from mmlow.evaluation import (evaluate_result_dir, got10k_evaluate, ope_evaluate,
                              write_got10k_result)
from mmlow.evaluation.tracking import got10k_scores, got10k_sequence_ious, read_ope_result
from tests.tracking_fakes import make_got10k, make_lasot, random_boxes

matplotlib.use('Agg')


def _write_results(result_dir, truth, seed, repetitions=None):
    rng = np.random.default_rng(seed)
    for name, (boxes, _) in truth.items():
        for rep in range(1, (repetitions or {}).get(name, 1) + 1):
            # predictions near the truth (some overlap, some misses, some outside the image)
            pred = boxes + rng.normal(0, 4, boxes.shape)
            pred[:, 2:] = np.abs(pred[:, 2:]) + 1
            pred[rng.random(len(pred)) < 0.2] = random_boxes(rng, 1)
            write_got10k_result(result_dir, name, pred, rng.uniform(0.01, 0.05, len(pred)),
                                repetition=rep)


def test_got10k_matches_official_toolkit(tmp_path):
    from got10k.experiments import ExperimentGOT10k
    truth = make_got10k(str(tmp_path / 'data'), 'val', num_sequences=4, num_frames=9)
    result_root = tmp_path / 'results'
    tracker_dir = result_root / 'GOT-10k' / 'mine'
    first = next(iter(truth))
    _write_results(str(tracker_dir), truth, seed=1, repetitions={first: 3})

    experiment = ExperimentGOT10k(str(tmp_path / 'data'), subset='val',
                                  result_dir=str(result_root), report_dir=str(tmp_path / 'rep'))
    official = experiment.report(['mine'])['mine']
    ours = evaluate_result_dir('got10k', str(tmp_path / 'data'), str(tracker_dir), 'val')

    assert ours['overall']['AO'] == pytest.approx(official['overall']['ao'], abs=1e-12)
    assert ours['overall']['SR0.50'] == pytest.approx(official['overall']['sr'], abs=1e-12)
    np.testing.assert_allclose(ours['overall']['success_curve'],
                               official['overall']['succ_curve'], atol=1e-12)
    # SR0.75 is the toolkit's success curve at 0.75 (IoU strictly above the threshold)
    assert ours['overall']['SR0.75'] == pytest.approx(official['overall']['succ_curve'][75])
    assert ours['overall']['FPS'] == pytest.approx(official['overall']['speed_fps'])
    for name, seq in official['seq_wise'].items():
        assert ours['per_sequence'][name]['AO'] == pytest.approx(seq['ao'], abs=1e-12)
        assert ours['per_sequence'][name]['SR0.50'] == pytest.approx(seq['sr'], abs=1e-12)


def test_got10k_hand_computed():
    gt = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10],
                   [10, 10, 10, 10]], dtype=float)
    pred = np.array([
        [50, 50, 1, 1],      # first frame: never scored
        [5, 0, 10, 10],      # IoU 50 / 150
        [-5, 0, 10, 10],     # the toolkit clips x to 0 and keeps w (<= W - x): IoU 1
        [0, 0, 10, 10],      # cover 0: dropped
        [12, 12, 10, 10],    # both clipped to the 20x20 image: 8x8 inside 10x10 -> 0.64
    ], dtype=float)
    cover = np.array([8, 8, 3, 0, 8])
    ious = got10k_sequence_ious(pred, gt, cover, (20, 20))
    np.testing.assert_allclose(ious, [1 / 3, 1.0, 0.64], atol=1e-12)
    scores = got10k_scores(ious)
    assert scores['AO'] == pytest.approx((1 / 3 + 1 + 0.64) / 3)
    assert scores['SR0.50'] == pytest.approx(2 / 3)
    assert scores['SR0.75'] == pytest.approx(1 / 3)


class _FakeOTB:
    def __init__(self, seqs):
        self.seq_names = list(seqs)
        self._seqs = seqs

    def __len__(self):
        return len(self._seqs)

    def __iter__(self):
        return iter((None, anno) for anno in self._seqs.values())


def test_ope_matches_toolkit_otb_success_and_precision(tmp_path):
    """On all-visible sequences our LaSOT/OTB success AUC and precision@20 are the toolkit's
    ExperimentOTB success and precision scores (21 IoU bins, first frame set to the truth)."""
    from got10k.experiments import ExperimentOTB
    rng = np.random.default_rng(3)
    seqs, preds = {}, {}
    for index in range(5):
        gt = np.abs(random_boxes(rng, 30, (200, 160))) + 1
        pred = gt + rng.normal(0, 6, gt.shape)
        pred[:, 2:] = np.abs(pred[:, 2:]) + 1
        seqs[f's{index}'], preds[f's{index}'] = gt, pred
        np.savetxt(tmp_path / f's{index}.txt', pred, fmt='%.3f', delimiter=',')
    experiment = ExperimentOTB.__new__(ExperimentOTB)
    experiment.dataset = _FakeOTB(seqs)
    experiment.result_dir, experiment.report_dir = str(tmp_path / 'res'), str(tmp_path / 'rep')
    experiment.nbins_iou, experiment.nbins_ce = 21, 51
    (tmp_path / 'res').mkdir()
    (tmp_path / 'res' / 'mine').symlink_to(tmp_path, target_is_directory=True)
    official = experiment.report(['mine'])['mine']['overall']
    ours = ope_evaluate([dict(name=n, gt=seqs[n], pred=np.loadtxt(tmp_path / f'{n}.txt',
                                                                   delimiter=','))
                         for n in seqs])['overall']
    assert ours['AUC'] == pytest.approx(official['success_score'], abs=1e-12)
    assert ours['P20'] == pytest.approx(official['precision_score'], abs=1e-12)
    np.testing.assert_allclose(ours['precision_curve'], official['precision_curve'], atol=1e-12)


def test_ope_hand_computed():
    gt = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], dtype=float)
    pred = np.array([[99, 99, 5, 5], [5, 0, 10, 10], [0, 0, 10, 10]], dtype=float)
    visible = np.array([True, True, False])
    overall = ope_evaluate([dict(name='s', gt=gt, pred=pred, visible=visible)])['overall']
    # frame 0 -> truth (IoU 1 above 20 of 21 thresholds); frame 1 IoU 1/3 above 0..0.30
    # (7 thresholds); frame 2 invisible: a failure everywhere; every frame in the denominator
    assert overall['AUC'] == pytest.approx((7 * 2 / 3 + 13 * 1 / 3) / 21)
    assert overall['P20'] == pytest.approx(2 / 3)        # errors 0, 5, inf
    assert overall['P_norm'] == pytest.approx(1 / 3)     # normalised errors 0, 0.5, inf


def test_lasot_result_dir_and_missing_result(tmp_path):
    truth = make_lasot(str(tmp_path / 'lasot'))
    (tmp_path / 'res').mkdir()
    for name, (boxes, _) in truth.items():
        np.savetxt(tmp_path / 'res' / f'{name}.txt', boxes, fmt='%.4f', delimiter=',')
    result = evaluate_result_dir('lasot', str(tmp_path / 'lasot'), str(tmp_path / 'res'))
    # perfect boxes: success only lost on invisible frames and at threshold 1.0
    visible_share = np.mean([v.mean() for _, v in truth.values()])
    assert result['overall']['P20'] == pytest.approx(visible_share)
    assert result['overall']['AUC'] == pytest.approx(visible_share * 20 / 21)
    (tmp_path / 'res' / 'cat-1.txt').unlink()
    with pytest.raises(FileNotFoundError, match='cat-1'):
        evaluate_result_dir('lasot', str(tmp_path / 'lasot'), str(tmp_path / 'res'))


def test_result_length_mismatch_is_reported(tmp_path):
    truth = make_got10k(str(tmp_path / 'data'), 'val', num_sequences=1, num_frames=5)
    name, (boxes, _) = next(iter(truth.items()))
    write_got10k_result(str(tmp_path / 'res'), name, boxes[:3], np.ones(3))
    with pytest.raises(ValueError, match='one x,y,w,h row per frame'):
        evaluate_result_dir('got10k', str(tmp_path / 'data'), str(tmp_path / 'res'))
    assert osp.isfile(tmp_path / 'res' / name / f'{name}_time.txt')


BAD_LINES = {'nan': 'nan,1,2,3', 'letters': 'a,b,c', 'three_values': '1,2,3',
             'inf': '4,inf,2,3', 'five_values': '1 2 3 4 5'}


def _corrupt(path, bad):
    """Line 4 of the file (after a blank line 3) becomes ``bad``; valid rows stay."""
    lines = open(path).read().splitlines()
    lines[2:3] = ['', bad]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


@pytest.mark.parametrize('bad', BAD_LINES.values(), ids=BAD_LINES.keys())
def test_got10k_result_with_bad_line_is_refused(tmp_path, bad):
    truth = make_got10k(str(tmp_path / 'data'), 'val', num_sequences=2, num_frames=6)
    _write_results(str(tmp_path / 'res'), truth, seed=1)
    name = list(truth)[1]
    record = tmp_path / 'res' / name / f'{name}_001.txt'
    _corrupt(record, bad)
    with pytest.raises(DataError, match=re.escape(f'{record}, line 4: {bad!r}')):
        evaluate_result_dir('got10k', str(tmp_path / 'data'), str(tmp_path / 'res'))


@pytest.mark.parametrize('layout', ['flat', 'got10k'])
@pytest.mark.parametrize('bad', BAD_LINES.values(), ids=BAD_LINES.keys())
def test_lasot_result_with_bad_line_is_refused(tmp_path, bad, layout):
    truth = make_lasot(str(tmp_path / 'lasot'))
    for name, (boxes, _) in truth.items():
        if layout == 'flat':
            np.savetxt(tmp_path / f'{name}.txt', boxes, fmt='%.4f', delimiter=',')
        else:
            write_got10k_result(str(tmp_path), name, boxes, np.ones(len(boxes)))
    record = (tmp_path / 'kite-1.txt' if layout == 'flat' else
              tmp_path / 'kite-1' / 'kite-1_001.txt')
    _corrupt(record, bad)
    with pytest.raises(DataError, match=re.escape(f'{record}, line 4: {bad!r}')):
        evaluate_result_dir('lasot', str(tmp_path / 'lasot'), str(tmp_path))


@pytest.mark.parametrize('bad', BAD_LINES.values(), ids=BAD_LINES.keys())
def test_trackingnet_style_result_with_bad_line_is_refused(tmp_path, bad):
    """TrackingNet / OTB results are flat ``{video}.txt`` files, read by read_ope_result."""
    np.savetxt(tmp_path / 'vid_a.txt', np.ones((5, 4)), fmt='%.2f', delimiter=',')
    _corrupt(tmp_path / 'vid_a.txt', bad)
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 'vid_a.txt'}, line 4")):
        read_ope_result(str(tmp_path), 'vid_a')


def test_valid_result_lines_parse_as_before(tmp_path):
    (tmp_path / 's.txt').write_text('1,2,3,4\n\n5\t6\t7\t8\n 9 10  11 12 \n1e1,-2,0.5,3.\n')
    np.testing.assert_array_equal(read_ope_result(str(tmp_path), 's')[0],
                                  [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [10, -2, .5, 3]])
    (tmp_path / 'e.txt').write_text('\n')
    with pytest.raises(DataError, match='e.txt: no x,y,w,h line'):
        read_ope_result(str(tmp_path), 'e')


@pytest.mark.parametrize('value', [np.nan, np.inf])
def test_non_finite_boxes_are_refused_in_memory_and_by_the_writer(tmp_path, value):
    gt = np.tile([[2.0, 2, 10, 10]], (4, 1))
    pred = gt.copy()
    pred[2, 1] = value
    with pytest.raises(DataError, match='sequence s: the result box of frame 3'):
        write_got10k_result(str(tmp_path), 's', pred, np.ones(4))
    assert not (tmp_path / 's').exists()
    with pytest.raises(DataError, match='frame 3'):
        got10k_evaluate([dict(name='s', gt=gt, cover=np.full(4, 8), image_size=(20, 20),
                              preds=[pred])])
    with pytest.raises(DataError, match='frame 3'):
        ope_evaluate([dict(name='s', gt=gt, pred=pred)])
