"""Single-object tracking metrics, computed as the benchmarks' own toolkits compute them.

Boxes are ``[x, y, w, h]`` rows in pixels (left, top, width, height), as in every benchmark's
``groundtruth.txt``.

GOT-10k (the official ``got10k`` toolkit, ``ExperimentGOT10k.report``):
    predicted and ground-truth boxes are clipped to the image (``x`` to ``[0, W]``, ``w`` to
    ``[0, W - x]``), the first frame is dropped, frames whose ``cover`` label is 0 (target fully
    occluded or out of view) are dropped, and the IoUs of all remaining frames of all sequences
    (all repetitions) are pooled. AO = mean IoU; SR_t = fraction of IoUs strictly above t.

OTB / LaSOT / TrackingNet (pytracking's ``extract_results`` convention, which the OSTrack/SMAT
family and LowFormer-Track report with): the first predicted box is replaced by the ground
truth; a frame is valid when the ground-truth box has positive size and the target is visible
(LaSOT: neither ``full_occlusion`` nor ``out_of_view``); invalid frames count as failures at
every threshold and every frame counts in the denominator. Per sequence: success curve over
IoU thresholds 0, 0.05, ..., 1 (strictly above), precision curve over centre-error thresholds
0..50 px (at most), normalised-precision curve over 0..0.5 (centre errors divided by the
ground-truth size). Curves are averaged over sequences; success AUC = mean of the success
curve, precision = curve at 20 px, normalised precision = curve at 0.20. (The official LaSOT
MATLAB toolkit differs in one respect: it does not count invisible frames against the tracker.)
"""
import glob
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmlow.errors import DataError

GOT10K_SR_THRESHOLDS = (0.5, 0.75)
SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)
NORM_PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64) / 100.0


def box_iou_xywh(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """Row-wise IoU of two ``(N, 4)`` arrays of ``[x, y, w, h]`` boxes (continuous coordinates).

    Boxes of zero area give IoU 0 with anything (no division by zero).
    """
    boxes1 = np.asarray(boxes1, dtype=np.float64).reshape(-1, 4)
    boxes2 = np.asarray(boxes2, dtype=np.float64).reshape(-1, 4)
    if boxes1.shape != boxes2.shape:
        raise ValueError(f'box arrays differ in shape: {boxes1.shape} vs {boxes2.shape}')
    left = np.maximum(boxes1[:, 0], boxes2[:, 0])
    top = np.maximum(boxes1[:, 1], boxes2[:, 1])
    right = np.minimum(boxes1[:, 0] + boxes1[:, 2], boxes2[:, 0] + boxes2[:, 2])
    bottom = np.minimum(boxes1[:, 1] + boxes1[:, 3], boxes2[:, 1] + boxes2[:, 3])
    inter = np.maximum(right - left, 0) * np.maximum(bottom - top, 0)
    union = boxes1[:, 2] * boxes1[:, 3] + boxes2[:, 2] * boxes2[:, 3] - inter
    iou = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return np.clip(iou, 0.0, 1.0)


def clip_boxes_to_image(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    """GOT-10k's clipping: the corner into ``[0, W] x [0, H]``, the size to what is left."""
    boxes = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    boxes[:, 0] = np.clip(boxes[:, 0], 0, width)
    boxes[:, 1] = np.clip(boxes[:, 1], 0, height)
    boxes[:, 2] = np.clip(boxes[:, 2], 0, width - boxes[:, 0])
    boxes[:, 3] = np.clip(boxes[:, 3], 0, height - boxes[:, 1])
    return boxes


def _check_lengths(pred: np.ndarray, gt: np.ndarray, name: str) -> None:
    if pred.shape != gt.shape:
        raise ValueError(f'sequence {name}: the result has {len(pred)} boxes of shape '
                         f'{pred.shape[1:]} but the ground truth has {len(gt)} frames; a result '
                         'file needs one x,y,w,h row per frame')


def _check_finite(pred: np.ndarray, name: str) -> None:
    bad = np.flatnonzero(~np.isfinite(pred).all(axis=1))
    if len(bad):
        raise DataError(f'sequence {name}: the result box of frame {bad[0] + 1} is '
                        f'{pred[bad[0]].tolist()} ({len(bad)} frames hold NaN or inf); every '
                        'box must be four finite numbers x,y,w,h')


def got10k_sequence_ious(pred: np.ndarray, gt: np.ndarray, cover: np.ndarray,
                         image_size: Tuple[int, int], name: str = '?') -> np.ndarray:
    """IoUs of the frames GOT-10k scores: frames 1.. with ``cover > 0``, boxes clipped.

    ``image_size`` is ``(width, height)`` (GOT-10k's ``resolution``). A NaN or inf predicted box
    is refused (the official toolkit would turn the sequence's scores into NaN).
    """
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    _check_lengths(pred, gt, name)
    _check_finite(pred, name)
    cover = np.asarray(cover).reshape(-1)
    if len(cover) != len(gt):
        raise ValueError(f'sequence {name}: {len(cover)} cover labels for {len(gt)} frames')
    width, height = image_size
    ious = box_iou_xywh(clip_boxes_to_image(pred[1:], width, height),
                        clip_boxes_to_image(gt[1:], width, height))
    return ious[cover[1:] > 0]


def got10k_scores(ious: np.ndarray) -> Dict[str, float]:
    """AO, SR0.50, SR0.75 of pooled IoUs, and GOT-10k's 101-bin success curve."""
    ious = np.asarray(ious, dtype=np.float64).reshape(-1)
    if ious.size == 0:
        raise ValueError('no frame to score: every frame after the first is marked absent')
    scores = dict(AO=float(ious.mean()))
    for threshold in GOT10K_SR_THRESHOLDS:
        scores[f'SR{threshold:.2f}'] = float((ious > threshold).mean())
    scores['success_curve'] = np.mean(ious[:, None] > np.linspace(0, 1, 101)[None], axis=0)
    return scores


def got10k_evaluate(sequences: Sequence[dict]) -> Dict:
    """Score a tracker on GOT-10k-style sequences.

    Args:
        sequences: dicts with ``name``, ``gt`` (N, 4), ``cover`` (N,), ``image_size`` (W, H),
            ``preds`` (a list of (N, 4) arrays, one per repetition) and optionally ``times``
            (per-frame seconds).

    Returns:
        ``overall`` (AO, SR0.50, SR0.75, FPS, success curve) and ``per_sequence`` scores.
    """
    pooled, all_times, per_sequence = [], [], {}
    for seq in sequences:
        ious = np.concatenate([
            got10k_sequence_ious(pred, seq['gt'], seq['cover'], seq['image_size'], seq['name'])
            for pred in seq['preds']
        ])
        pooled.append(ious)
        times = _valid_times(seq.get('times'))
        all_times.append(times)
        per_sequence[seq['name']] = dict(got10k_scores(ious), FPS=_fps(times))
        per_sequence[seq['name']].pop('success_curve')
    overall = got10k_scores(np.concatenate(pooled))
    overall['FPS'] = _fps(np.concatenate(all_times) if all_times else np.zeros(0))
    return dict(overall=overall, per_sequence=per_sequence)


def _valid_times(times: Optional[np.ndarray]) -> np.ndarray:
    if times is None:
        return np.zeros(0)
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    times = times[~np.isnan(times)]
    return times[times > 0]


def _fps(times: np.ndarray) -> float:
    """GOT-10k's speed: the mean of per-frame 1/t (-1 when no times were recorded)."""
    return float(np.mean(1.0 / times)) if len(times) else -1.0


def _centres(boxes: np.ndarray) -> np.ndarray:
    return boxes[:, :2] + 0.5 * (boxes[:, 2:] - 1.0)


def ope_sequence_curves(pred: np.ndarray, gt: np.ndarray, visible: Optional[np.ndarray] = None,
                        name: str = '?') -> Dict[str, np.ndarray]:
    """One sequence's success / precision / normalised-precision curves (pytracking's rules)."""
    pred = np.array(pred, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    _check_lengths(pred, gt, name)
    _check_finite(pred, name)
    if (pred[:, 2:] < 0).any():
        raise ValueError(f'sequence {name}: the result holds negative sizes')
    # a zero-size prediction repeats the previous one (the tracker "lost" the box)
    for index in range(1, len(pred)):
        if (pred[index, 2:] == 0).any():
            pred[index] = pred[index - 1]
    pred[0] = gt[0]
    valid = (gt[:, 2:] > 0).all(axis=1)
    if visible is not None:
        visible = np.asarray(visible, dtype=bool).reshape(-1)
        if len(visible) != len(gt):
            raise ValueError(f'sequence {name}: {len(visible)} visibility flags for '
                             f'{len(gt)} frames')
        valid &= visible
    overlap = np.where(valid, box_iou_xywh(pred, gt), -1.0)
    error = np.linalg.norm(_centres(pred) - _centres(gt), axis=1)
    safe_size = np.where(gt[:, 2:] > 0, gt[:, 2:], 1.0)
    norm_error = np.linalg.norm(_centres(pred) / safe_size - _centres(gt) / safe_size, axis=1)
    error = np.where(valid, error, np.inf)
    norm_error = np.where(valid, norm_error, np.inf)
    length = len(gt)
    return dict(
        success=(overlap[:, None] > SUCCESS_THRESHOLDS[None]).sum(0) / length,
        precision=(error[:, None] <= PRECISION_THRESHOLDS[None]).sum(0) / length,
        norm_precision=(norm_error[:, None] <= NORM_PRECISION_THRESHOLDS[None]).sum(0) / length,
        ao=float(overlap[valid].mean()) if valid.any() else 0.0)


def ope_evaluate(sequences: Sequence[dict]) -> Dict:
    """Success AUC, precision@20px and normalised precision@0.2 over sequences.

    Args:
        sequences: dicts with ``name``, ``gt`` (N, 4), ``pred`` (N, 4), optionally ``visible``
            (N,) and ``times``.
    """
    curves, per_sequence, all_times = [], {}, []
    for seq in sequences:
        seq_curves = ope_sequence_curves(seq['pred'], seq['gt'], seq.get('visible'), seq['name'])
        curves.append(seq_curves)
        all_times.append(_valid_times(seq.get('times')))
        per_sequence[seq['name']] = _ope_scores([seq_curves])
    overall = _ope_scores(curves)
    overall['FPS'] = _fps(np.concatenate(all_times) if all_times else np.zeros(0))
    return dict(overall=overall, per_sequence=per_sequence)


def _ope_scores(curves: List[Dict[str, np.ndarray]]) -> Dict:
    success = np.mean([c['success'] for c in curves], axis=0)
    precision = np.mean([c['precision'] for c in curves], axis=0)
    norm_precision = np.mean([c['norm_precision'] for c in curves], axis=0)
    return dict(AUC=float(success.mean()), P20=float(precision[20]),
                P_norm=float(norm_precision[20]), success_curve=success,
                precision_curve=precision, norm_precision_curve=norm_precision)


# ---- result files ---------------------------------------------------------------------------

def write_got10k_result(result_dir: str, name: str, boxes: np.ndarray, times: np.ndarray,
                        repetition: int = 1) -> str:
    """``{result_dir}/{name}/{name}_{rep:03d}.txt`` and ``{name}_time.txt``, the toolkit's form.

    A NaN or inf box is refused (nothing is written): no reader could score it."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    _check_finite(boxes, name)
    seq_dir = osp.join(result_dir, name)
    os.makedirs(seq_dir, exist_ok=True)
    record = osp.join(seq_dir, f'{name}_{repetition:03d}.txt')
    np.savetxt(record, boxes, fmt='%.3f', delimiter=',')
    np.savetxt(osp.join(seq_dir, f'{name}_time.txt'), np.asarray(times).reshape(-1, 1),
               fmt='%.8f', delimiter=',')
    return record


def read_got10k_results(result_dir: str, name: str) -> Tuple[List[np.ndarray], np.ndarray]:
    """All repetitions ``{name}_NNN.txt`` of one sequence and its times (empty when absent)."""
    seq_dir = osp.join(result_dir, name)
    records = sorted(glob.glob(osp.join(seq_dir, f'{glob.escape(name)}_[0-9]*.txt')))
    if not records:
        raise FileNotFoundError(
            f'no result for sequence {name}: expected {seq_dir}/{name}_001.txt (one x,y,w,h '
            'row per frame, GOT-10k layout); run the tracker on this sequence first')
    preds = [_load_boxes(path) for path in records]
    time_file = osp.join(seq_dir, f'{name}_time.txt')
    times = np.loadtxt(time_file, delimiter=',', ndmin=2)[:, 0] if osp.isfile(
        time_file) else np.zeros(0)
    return preds, times


def read_ope_result(result_dir: str, name: str) -> Tuple[np.ndarray, np.ndarray]:
    """An OTB/LaSOT-style result: ``{name}.txt`` (or GOT-10k layout ``{name}/{name}_001.txt``)."""
    flat = osp.join(result_dir, f'{name}.txt')
    if osp.isfile(flat):
        time_file = osp.join(result_dir, f'{name}_time.txt')
        times = np.loadtxt(time_file, ndmin=1) if osp.isfile(time_file) else np.zeros(0)
        return _load_boxes(flat), times
    preds, times = read_got10k_results(result_dir, name)
    return preds[0], times


def _load_boxes(path: str) -> np.ndarray:
    """``x,y,w,h`` rows (comma, tab or space separated; blank lines skipped). A line that is
    not four finite numbers is refused with the file and its 1-based line number."""
    with open(path) as f:
        text = f.read().replace('\t', ',')
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        shown = line if len(line) <= 60 else line[:57] + '...'
        try:
            row = [float(v) for v in line.replace(' ', ',').split(',') if v != '']
        except ValueError:
            raise DataError(f'{path}, line {number}: {shown!r} is not numbers; every line must '
                            'be four finite numbers x,y,w,h') from None
        if len(row) != 4:
            raise DataError(f'{path}, line {number}: {shown!r} has {len(row)} values; every '
                            'line must be four finite numbers x,y,w,h')
        if not all(np.isfinite(row)):
            raise DataError(f'{path}, line {number}: {shown!r} holds NaN or inf; every line '
                            'must be four finite numbers x,y,w,h')
        rows.append(row)
    if not rows:
        raise DataError(f'{path}: no x,y,w,h line (the file is empty)')
    return np.array(rows, dtype=np.float64)


def format_table(rows: Dict[str, Dict[str, float]], keys: Sequence[str]) -> str:
    """A markdown table, one row per tracker."""
    lines = ['| tracker | ' + ' | '.join(keys) + ' |', '|---' * (len(keys) + 1) + '|']
    for name, scores in rows.items():
        cells = []
        for key in keys:
            value = scores.get(key)
            cells.append('-' if value is None else f'{value:.3f}' if abs(value) < 10
                         else f'{value:.1f}')
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def evaluate_result_dir(fmt: str, data_root: str, result_dir: str,
                        subset: Optional[str] = None) -> Dict:
    """Score stored result files against a dataset in its released layout.

    ``fmt`` 'got10k' reads ``{result_dir}/{seq}/{seq}_NNN.txt`` and scores AO/SR (GOT-10k
    rules); 'lasot' (also for OTB-style folders) reads ``{result_dir}/{seq}.txt`` or the GOT-10k
    layout and scores AUC/P20/P_norm (pytracking's rules).
    """
    from mmlow.datasets.tracking import GOT10kReader, LaSOTReader
    if fmt == 'got10k':
        reader = GOT10kReader(data_root, subset or 'val')
        if reader.subset == 'test':
            raise ValueError('GOT-10k test ground truth is withheld: submit the result folder '
                             'to the evaluation server, or evaluate on val')
        sequences = []
        for seq in reader:
            preds, times = read_got10k_results(result_dir, seq.name)
            sequences.append(dict(name=seq.name, gt=seq.boxes, cover=seq.cover,
                                  image_size=seq.size(), preds=preds, times=times))
        return got10k_evaluate(sequences)
    if fmt == 'lasot':
        reader = LaSOTReader(data_root, subset or 'test')
        sequences = []
        for seq in reader:
            pred, times = read_ope_result(result_dir, seq.name)
            sequences.append(dict(name=seq.name, gt=seq.boxes, pred=pred, visible=seq.visible,
                                  times=times))
        return ope_evaluate(sequences)
    raise ValueError(f'unknown result format {fmt!r}; choose got10k or lasot')
