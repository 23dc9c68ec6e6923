"""Measure backbone swaps of one pipeline side by side (tools/compare_backbones.py): accuracy
from a results file, params, MACs, backbone latency and end-to-end FPS per backend, written as
one table (Markdown, JSON) and one figure."""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch

from mmlow.analysis import count_macs, count_params
from mmlow.deploy.backend_model import BackendModel
from mmlow.deploy.backends import BACKENDS, build_backend, check_backend
from mmlow.reports.compare import compare_plot, compare_table, correlations
from mmlow.deploy.detection import PostprocessCounter, mean_counts, set_candidates
from mmlow.deploy.loading import DEFAULT_SHAPES, model_from_config
from mmlow.benchmark.record import hardware_string, latency_stats
from mmlow.benchmark.synthetic import synthetic_batch
from mmlow.benchmark.timing import time_interleaved


def accuracy_of(results: dict, config: str, metrics: Optional[Sequence[str]]) -> dict:
    """{metric: value} for ``config`` (``accuracy`` when ``results`` gives a bare number)."""
    stem = osp.splitext(osp.basename(config))[0]
    value = results.get(stem, results.get(f'{stem}.py'))
    if isinstance(value, dict):
        if not metrics:
            raise ValueError(f'the results hold several metrics for {stem}: choose with '
                             f'--metric ({", ".join(value)})')
        return {metric: value.get(metric) for metric in metrics}
    return {metric: value for metric in (metrics or ['accuracy'])}


def _timed(runs: dict, batch: int, iters: int, warmup: int, sync) -> Dict[str, dict]:
    timings = time_interleaved(runs, repeats=iters, warmup=warmup, sync=sync)
    return {name: latency_stats(t['times_ms'], [batch] * len(t['times_ms']))
            for name, t in timings.items()}


def measure_swaps(configs: Sequence[str], backends: Sequence[str], results: dict,
                  metrics: Optional[Sequence[str]] = None,
                  shape: Optional[Tuple[int, int]] = None, batch: int = 1, iters: int = 30,
                  warmup: int = 5, candidates: Union[int, str, None] = None) -> List[dict]:
    """One row per config. On each backend the configs are timed interleaved in this process
    (real pre- and post-processing around the backend's tensor forward, random weights); the
    backbone latency is timed on the first backend. Detector rows carry the mean (score,
    class) candidates per image into NMS and boxes out (on the first backend);
    ``candidates`` sets them as mmlow.deploy.detection.set_candidates does."""
    for backend in backends:
        check_backend(backend)
    models = {osp.splitext(osp.basename(config))[0]: model_from_config(config)
              for config in configs}
    rows = {}
    for name, (model, scope) in models.items():
        image_shape = tuple(shape or DEFAULT_SHAPES[scope])
        input_shape = (batch, 3, *image_shape)
        row_metrics = accuracy_of(results, name, metrics)
        rows[name] = dict(name=name, scope=scope, shape=image_shape, metrics=row_metrics,
                          accuracy=next(iter(row_metrics.values())),
                          params=count_params(model), macs=count_macs(model, input_shape),
                          backbone_macs=count_macs(model.backbone, input_shape), fps={},
                          nms_candidates=None, boxes_out=None)
        if candidates is not None:
            data = synthetic_batch(scope, image_shape, batch)
            with torch.inference_mode():
                inputs = model.data_preprocessor(data, False)['inputs']
            set_candidates(model, inputs, candidates)
    for backend in backends:
        sync = torch.cuda.synchronize if BACKENDS[backend].device == 'cuda' else lambda: None
        runs = {}
        for name, (model, scope) in models.items():
            backend_model = BackendModel(model, backend)
            data = synthetic_batch(scope, rows[name]['shape'], batch)
            if backend == backends[0] and backend_model.dense_head is not None:
                counter = PostprocessCounter()
                counter.attach(backend_model.dense_head)
                backend_model.test_step(data)  # build and check before timing
                rows[name].update(mean_counts(*counter.take()))
                counter.detach()
            else:
                backend_model.test_step(data)  # build and check before timing
            runs[name] = lambda m=backend_model, d=data: m.test_step(d)
        for name, stats in _timed(runs, batch, iters, warmup, sync).items():
            rows[name]['fps'][backend] = stats['fps']
        if backend == backends[0]:
            runs = {}
            for name, (model, _) in models.items():
                inputs = torch.randn(batch, 3, *rows[name]['shape'])
                forward = build_backend(backend, model.backbone, inputs)
                runs[name] = lambda f=forward, x=inputs: f(x)
            for name, stats in _timed(runs, batch, iters, warmup, sync).items():
                rows[name]['backbone_ms'] = stats['median_ms']
    return list(rows.values())


def compare_backbones(configs: Sequence[str], backends: Sequence[str] = ('cpu', ),
                      results_file: Optional[str] = None,
                      metrics: Optional[Sequence[str]] = None,
                      shape: Optional[Tuple[int, int]] = None, batch: int = 1, iters: int = 30,
                      warmup: int = 5, out_dir: str = 'work_dirs/compare_backbones',
                      candidates: Union[int, str, None] = None) -> str:
    """Measure (:func:`measure_swaps`) and write compare.{md,json,png,svg} to ``out_dir``;
    returns the table, its note and the files written, as text."""
    results = {}
    if results_file:
        with open(results_file) as f:
            results = json.load(f)
    rows = measure_swaps(configs, backends, results, metrics, shape, batch, iters, warmup,
                         candidates)
    rho = correlations(rows, backends)
    hardware = hardware_string(BACKENDS[backends[-1]].device)
    note = (f'{hardware}, torch {torch.__version__}, {torch.get_num_threads()} threads; '
            f'batch {batch}, median of {iters} interleaved iterations; random weights'
            f'{"" if candidates is None else f", --candidates {candidates}"}. '
            'Spearman rho (MACs vs end-to-end latency): ' + ', '.join(
                f'{b} {"n/a" if r is None else f"{r:.2f}"}' for b, r in rho.items()))
    table = compare_table(rows, backends)
    os.makedirs(out_dir, exist_ok=True)
    stem = osp.join(out_dir, 'compare')
    with open(f'{stem}.md', 'w') as f:
        f.write(f'{table}\n\n{note}\n')
    with open(f'{stem}.json', 'w') as f:
        json.dump(dict(rows=rows, spearman=rho, note=note), f, indent=2)
    figures = compare_plot(rows, backends, stem, title=note)
    return f'{table}\n\n{note}\nwrote {stem}.md, {stem}.json, {", ".join(figures)}'
