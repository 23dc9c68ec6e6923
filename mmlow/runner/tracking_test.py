"""tools/test.py for tracking configs: track every sequence of the config's ``tracking_test``
dataset, write the toolkits' result files and score them."""
import os.path as osp
import time
from typing import Dict, Optional, Sequence, Tuple

import mmengine
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DATASETS

from mmlow.datasets.tracking import read_image
from mmlow.deploy.loading import build_model
from mmlow.evaluation.tracking import evaluate_result_dir, format_table, write_got10k_result
from mmlow.fileio import ATOMIC
from mmlow.models.tracking import CropTracker

GOT10K_KEYS = ('AO', 'SR0.50', 'SR0.75', 'FPS')
OPE_KEYS = ('AUC', 'P20', 'P_norm', 'FPS')


def track_sequence(tracker, frames: Sequence[str], init_box) -> Tuple[np.ndarray, np.ndarray]:
    """Boxes (first = the given box) and per-frame seconds (first = the initialisation)."""
    boxes, times = [np.asarray(init_box, dtype=np.float64)], []
    start = time.perf_counter()
    tracker.init(read_image(frames[0]), init_box)
    times.append(time.perf_counter() - start)
    for path in frames[1:]:
        frame = read_image(path)
        start = time.perf_counter()
        boxes.append(np.array(tracker.track(frame), dtype=np.float64))
        times.append(time.perf_counter() - start)
    return np.stack(boxes), np.array(times)


def run_on_dataset(tracker, reader, result_dir: str) -> np.ndarray:
    """Track every sequence of a reader; results in GOT-10k's layout
    (``{seq}/{seq}_001.txt``, ``{seq}/{seq}_time.txt``). Returns the per-frame seconds of all
    tracked frames (initialisations excluded)."""
    frame_times = []
    for seq in reader:
        boxes, times = track_sequence(tracker, seq.frames, seq.boxes[0])
        write_got10k_result(result_dir, seq.name, boxes, times)
        frame_times.append(times[1:])
    return np.concatenate(frame_times)


def evaluate_config(cfg: Config, result_dir: str) -> Dict:
    """Score stored results on the config's ``tracking_test`` dataset."""
    test = cfg.tracking_test
    reader_cfg = dict(test.reader)
    reader = DATASETS.build(reader_cfg)
    root = reader.root if hasattr(reader, 'root') else reader_cfg['root']
    return evaluate_result_dir(test.format, root, result_dir, getattr(reader, 'subset', None))


def run_tracking_test(cfg: Config, checkpoint: str, result_dir: str,
                      strict: bool = True) -> Dict:
    """tools/test.py for tracking configs: track the test set, write results, print scores."""
    model = build_model(cfg, checkpoint, strict)
    reader = DATASETS.build(dict(cfg.tracking_test.reader))
    with torch.no_grad():
        run_on_dataset(CropTracker.from_model(model), reader, result_dir)
    return evaluate_config(cfg, result_dir)


def evaluate_tracking_checkpoint(cfg: Config, out: Optional[str] = None,
                                 metrics_out: Optional[str] = None, strict: bool = True) -> str:
    """tools/test.py for tracking configs: results under ``out`` (default
    ``<work_dir>/results``), scores as a table (and as JSON in ``metrics_out``)."""
    result_dir = out or osp.join(cfg.work_dir, 'results')
    scores = run_tracking_test(cfg, cfg.load_from, result_dir, strict)['overall']
    keys = table_keys(cfg.tracking_test.format)
    if metrics_out:
        mmengine.dump({key: float(scores[key]) for key in keys}, metrics_out, indent=2,
                      backend_args=ATOMIC)
    return format_table({result_dir: scores}, keys)


def table_keys(fmt: str):
    return GOT10K_KEYS if fmt == 'got10k' else OPE_KEYS
