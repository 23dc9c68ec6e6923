"""The tracker beside its baselines on the synthetic sequences, and its per-frame step on each
CPU backend (tools/compare_trackers.py)."""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DATASETS

from mmlow.benchmark.tracking import benchmark_tracker
from mmlow.deploy import BackendUnavailableError, available_backends
from mmlow.deploy.backends import parse_variant
from mmlow.deploy.loading import build_model
from mmlow.deploy.quantize import DEFAULT_CALIBRATION_IMAGES, KEEP_FLOAT
from mmlow.deploy.tracking import (TrackerCalibration, export_tracker_onnx, onnx_crop_tracker,
                                   quantize_tracker_graphs, tracker_calibration)
from mmlow.evaluation.tracking import format_table
from mmlow.models.tracking import CropTracker, NCCTracker, StaticTracker
from mmlow.runner.tracking_test import GOT10K_KEYS, evaluate_config, run_on_dataset

COMPARE_KEYS = GOT10K_KEYS + ('median ms/frame', )
CPU_BACKENDS = ('cpu', 'torchscript', 'onnxruntime', 'openvino')


def backend_speed_table(model, backends: Sequence[str] = CPU_BACKENDS,
                        calibration: Optional[TrackerCalibration] = None) -> Tuple[list, str]:
    """The network's per-frame step on each backend (NAME or NAME/PRECISION) that runs here
    (template branch once, then the search branch per frame;
    mmlow.benchmark.tracking.benchmark_tracker); int8 items quantized on ``calibration``."""
    records, lines = [], ['| backend | precision | template ms | search ms (median) | '
                          'search ms (p90) | FPS |', '|---|---|---|---|---|---|']
    for item in backends:
        backend, precision = parse_variant(item)
        if backend not in available_backends():
            continue
        try:
            record = benchmark_tracker(model, backend, precision=precision,
                                       calibration=calibration)
        except BackendUnavailableError:
            continue
        records.append(record)
        lines.append(f"| {backend} | {record['precision']} | {record['template_ms']:.2f} | "
                     f"{record['search_median_ms']:.2f} | {record['search_p90_ms']:.2f} | "
                     f"{record['fps']:.1f} |")
    return records, '\n'.join(lines)


def compare_on_synthetic(cfg: Config, checkpoint: str, work_dir: str,
                         backends: Sequence[str] = CPU_BACKENDS,
                         calibration_pairs: int = DEFAULT_CALIBRATION_IMAGES,
                         keep_float: Sequence[str] = KEEP_FLOAT) -> Tuple[Dict, str]:
    """Our tracker (eager, ONNX Runtime, and INT8 on each ``backends`` item NAME/int8), a
    never-moving box and NCC template matching on the config's held-out sequences: one table
    of AO / SR0.50 / SR0.75, FPS as GOT-10k defines it (mean of per-frame 1/t) and the median
    time per tracked frame. INT8 graphs are calibrated on ``calibration_pairs`` training
    pairs."""
    model = build_model(cfg, checkpoint)
    reader = DATASETS.build(dict(cfg.tracking_test.reader))
    onnx_dir = osp.join(work_dir, 'onnx')
    onnx_paths = export_tracker_onnx(model, onnx_dir)
    trackers = {
        'one-stream tracker (eager)': ('eager', CropTracker.from_model(model)),
        'one-stream tracker (ONNX Runtime)': ('onnx', onnx_crop_tracker(model, *onnx_paths)),
    }
    int8_backends = [backend for backend, precision in map(parse_variant, backends)
                     if precision == 'int8']
    calibration = None
    if int8_backends:
        calibration = tracker_calibration(cfg, model, calibration_pairs, keep_float=keep_float)
    for backend in int8_backends:
        paths = quantize_tracker_graphs(model, *onnx_paths, backend, calibration, onnx_dir)
        trackers[f'one-stream tracker ({backend} int8)'] = (
            f'{backend}_int8', onnx_crop_tracker(model, *paths, backend, 'int8'))
    trackers.update({'static box': ('', StaticTracker()),
                     'NCC template matching': ('', NCCTracker(model.search_factor))})
    rows = {}
    for name, (suffix, tracker) in trackers.items():
        result_dir = osp.join(work_dir, 'results', name.split(' (')[0].replace(' ', '_') +
                              (f'_{suffix}' if suffix and suffix != 'eager' else ''))
        with torch.no_grad():
            frame_times = run_on_dataset(tracker, reader, result_dir)
        rows[name] = dict(evaluate_config(cfg, result_dir)['overall'],
                          **{'median ms/frame': float(np.median(frame_times) * 1000)})
    _, speed = backend_speed_table(model, backends, calibration)
    return rows, format_table(rows, COMPARE_KEYS) + '\n\nnetwork per frame:\n' + speed
