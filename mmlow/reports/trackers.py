"""The tracker beside its baselines on the synthetic sequences, and its per-frame step on each
CPU backend (tools/compare_trackers.py)."""
import os.path as osp
from typing import Dict, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DATASETS

from mmlow.benchmark.tracking import benchmark_tracker
from mmlow.deploy import BackendUnavailableError, available_backends
from mmlow.deploy.loading import build_model
from mmlow.deploy.tracking import export_tracker_onnx, onnx_crop_tracker
from mmlow.evaluation.tracking import format_table
from mmlow.models.tracking import CropTracker, NCCTracker, StaticTracker
from mmlow.runner.tracking_test import GOT10K_KEYS, evaluate_config, run_on_dataset

COMPARE_KEYS = GOT10K_KEYS + ('median ms/frame', )
CPU_BACKENDS = ('cpu', 'torchscript', 'onnxruntime', 'openvino')


def backend_speed_table(model, backends: Sequence[str] = CPU_BACKENDS) -> Tuple[list, str]:
    """The network's per-frame step on each backend that runs here (template branch once,
    then the search branch per frame; mmlow.benchmark.tracking.benchmark_tracker)."""
    records, lines = [], ['| backend | precision | template ms | search ms (median) | '
                          'search ms (p90) | FPS |', '|---|---|---|---|---|---|']
    for backend in backends:
        if backend not in available_backends():
            continue
        try:
            record = benchmark_tracker(model, backend)
        except BackendUnavailableError:
            continue
        records.append(record)
        lines.append(f"| {backend} | {record['precision']} | {record['template_ms']:.2f} | "
                     f"{record['search_median_ms']:.2f} | {record['search_p90_ms']:.2f} | "
                     f"{record['fps']:.1f} |")
    return records, '\n'.join(lines)


def compare_on_synthetic(cfg: Config, checkpoint: str, work_dir: str,
                         backends: Sequence[str] = CPU_BACKENDS) -> Tuple[Dict, str]:
    """Our tracker (eager and ONNX Runtime), a never-moving box and NCC template matching on
    the config's held-out sequences: one table of AO / SR0.50 / SR0.75, FPS as GOT-10k
    defines it (mean of per-frame 1/t) and the median time per tracked frame."""
    model = build_model(cfg, checkpoint)
    reader = DATASETS.build(dict(cfg.tracking_test.reader))
    onnx_paths = export_tracker_onnx(model, osp.join(work_dir, 'onnx'))
    trackers = {
        'one-stream tracker (eager)': CropTracker.from_model(model),
        'one-stream tracker (ONNX Runtime)': onnx_crop_tracker(model, *onnx_paths),
        'static box': StaticTracker(),
        'NCC template matching': NCCTracker(model.search_factor),
    }
    rows = {}
    for name, tracker in trackers.items():
        result_dir = osp.join(work_dir, 'results', name.split(' (')[0].replace(' ', '_') +
                              ('_onnx' if 'ONNX' in name else ''))
        with torch.no_grad():
            frame_times = run_on_dataset(tracker, reader, result_dir)
        rows[name] = dict(evaluate_config(cfg, result_dir)['overall'],
                          **{'median ms/frame': float(np.median(frame_times) * 1000)})
    _, speed = backend_speed_table(model, backends)
    return rows, format_table(rows, COMPARE_KEYS) + '\n\nnetwork per frame:\n' + speed
