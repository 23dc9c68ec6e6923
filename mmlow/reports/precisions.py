"""What a precision costs in accuracy: one checkpoint per task evaluated as eager fp32 and as
deployed on each (backend, precision), side by side (tools/analysis/precision_accuracy.py).

Detectors, segmenters and retrievers are evaluated as tools/test.py --backend B --precision P
does (the test split, the config's own metric; int8 calibrated on training images); a tracker
tracks the held-out sequences with its two graphs on the backend (int8: quantized on training
pairs), scored as tools/test.py scores it.
"""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.registry import DATASETS

from mmlow.config import config_scope, is_tracking_config, load_config
from mmlow.deploy.loading import build_model
from mmlow.deploy.quantize import DEFAULT_CALIBRATION_IMAGES, KEEP_FLOAT
from mmlow.deploy.tracking import (export_tracker_onnx, onnx_crop_tracker,
                                   quantize_tracker_graphs, tracker_calibration)
from mmlow.models.tracking import CropTracker
from mmlow.runner.runs import run_testing
from mmlow.runner.testing import evaluate_on_backend
from mmlow.runner.tracking_test import evaluate_config, run_on_dataset

VARIANTS = (('cpu', 'fp32'), ('openvino', 'bf16'), ('onnxruntime', 'int8'), ('openvino', 'int8'))
# the headline metrics of each task, as its evaluator names them
METRICS = {'mmdet': ('coco/bbox_mAP', 'coco/segm_mAP'), 'mmseg': ('mIoU', ),
           'mmpretrain': ('retrieval/Recall@1', ), 'tracking': ('AO', )}


def _tracking_metrics(cfg, checkpoint: str, work_dir: str,
                      variants: Sequence[Tuple[str, str]], calibration_pairs: int,
                      keep_float: Sequence[str]) -> Dict:
    model = build_model(cfg, checkpoint)
    reader = DATASETS.build(dict(cfg.tracking_test.reader))
    graphs = osp.join(work_dir, 'graphs')
    paths = export_tracker_onnx(model, graphs)
    calibration = None
    results = {}
    for backend, precision in variants:
        if backend == 'cpu' and precision == 'fp32':
            tracker = CropTracker.from_model(model)
        elif precision == 'int8':
            calibration = calibration or tracker_calibration(
                cfg, model, calibration_pairs, keep_float=keep_float)
            tracker = onnx_crop_tracker(model, *quantize_tracker_graphs(
                model, *paths, backend, calibration, graphs), backend, precision)
        else:
            tracker = onnx_crop_tracker(model, *paths, backend, precision)
        result_dir = osp.join(work_dir, f'{backend}_{precision}')
        with torch.no_grad():
            run_on_dataset(tracker, reader, result_dir)
        results[f'{backend}/{precision}'] = {'AO': evaluate_config(cfg, result_dir)[
            'overall']['AO']}
    return results


def precision_metrics(config: str, checkpoint: str, work_dir: str,
                      variants: Sequence[Tuple[str, str]] = VARIANTS,
                      calibration_images: Optional[int] = None,
                      keep_float: Sequence[str] = KEEP_FLOAT) -> Dict[str, Dict[str, float]]:
    """{'backend/precision': {metric: value}} for the checkpoint of ``config``; ``cpu/fp32`` is
    the eager model. int8 calibrates on ``calibration_images`` training images (pairs) and
    leaves ``keep_float`` in floating point (detectors, segmenters, retrievers)."""
    cfg = load_config(config)
    if is_tracking_config(cfg):
        return _tracking_metrics(cfg, checkpoint, work_dir, variants,
                                 calibration_images or DEFAULT_CALIBRATION_IMAGES, keep_float)
    keys = METRICS[config_scope(cfg)]
    results = {}
    for backend, precision in variants:
        run_cfg = load_config(config)
        run_cfg.load_from = checkpoint
        run_cfg.work_dir = osp.join(work_dir, f'{backend}_{precision}')
        # no loader workers: forking a process that already holds OpenVINO's and ONNX
        # Runtime's thread pools (an earlier variant's) crashed it (SIGSEGV, seen here)
        loaders = [value for key, value in run_cfg.items() if key.endswith('_dataloader')]
        prototype = run_cfg.model.get('prototype')  # a retriever's class-prototype loader
        for loader in loaders + ([prototype] if isinstance(prototype, dict) else []):
            if isinstance(loader, dict) and 'dataset' in loader:
                loader.update(num_workers=0, persistent_workers=False)
        if not (backend == 'cpu' and precision == 'fp32'):
            evaluate_on_backend(run_cfg, backend, precision, calibration_images, keep_float)
        metrics = run_testing(run_cfg, config_path=config)
        results[f'{backend}/{precision}'] = {key: float(metrics[key]) for key in keys
                                             if key in metrics}
    return results


def precision_table(results: Dict[str, Dict[str, Dict[str, float]]]) -> str:
    """Markdown: a row per (config, metric), a column per variant, and the change of each
    non-fp32 variant from eager fp32."""
    variants = list(next(iter(results.values())))
    others = [v for v in variants if v != 'cpu/fp32']
    lines = ['| config | metric | ' + ' | '.join(variants) + ' | ' +
             ' | '.join(f'{v} - fp32' for v in others) + ' |',
             '|---' * (2 + len(variants) + len(others)) + '|']
    for config, by_variant in results.items():
        for metric in by_variant['cpu/fp32']:
            base = by_variant['cpu/fp32'][metric]
            cells = [f'{by_variant[v][metric]:.4f}' for v in variants]
            cells += [f'{by_variant[v][metric] - base:+.4f}' for v in others]
            lines.append(f'| {config} | {metric} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)
