"""End-to-end (or backbone-only) latency of task configs on one backend, outside training: the
LatencyHook's measurement on synthetic images (tools/benchmark.py)."""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import torch

from .backend_model import BackendModel
from .backends import BACKENDS, build_backend
from .loading import DEFAULT_SHAPES, model_from_config
from .record import latency_stats, make_record, model_name
from .synthetic import synthetic_batch
from .timing import time_interleaved
from .tracking import build_tracker_steps

TABLE_HEADER = ('| model | config | mode | backend | precision | input | batch | median ms/img '
                '| p90 ms/img | FPS |\n|---|---|---|---|---|---|---|---|---|---|')


class Candidate:
    """One config made ready to time: ``run`` does one iteration, ``record`` describes it."""

    def __init__(self, config: str, checkpoint: Optional[str], backend: str,
                 precision: Optional[str] = None, shape: Optional[Tuple[int, int]] = None,
                 batch: int = 1, backbone_only: bool = False,
                 cfg_options: Optional[dict] = None):
        model, scope = model_from_config(config, checkpoint, cfg_options)
        self.config = osp.basename(config)
        self.name = model_name(model)
        self.backend = backend
        self.batch = batch
        self.mode = 'backbone' if backbone_only else 'end2end'
        if hasattr(model, 'search_forward'):
            # a tracker: the per-frame step, its template's features computed once and cached
            self.mode = 'tracking'
            _, _, step, search = build_tracker_steps(model, backend, precision)
            self.precision, self.input_shape = step.precision, list(search.shape)
            self.run = lambda: step(search)
            return
        self.shape = tuple(shape or DEFAULT_SHAPES[scope])
        if backbone_only:
            inputs = torch.randn(batch, 3, *self.shape)
            forward = build_backend(backend, model.backbone, inputs, precision)
            self.precision, self.input_shape = forward.precision, list(inputs.shape)
            self.run = lambda: forward(inputs)
        else:
            backend_model = BackendModel(model, backend, precision)
            data = synthetic_batch(scope, self.shape, batch)
            backend_model.test_step(data)  # builds (and checks) the backend
            self.precision = backend_model.precision
            (self.input_shape, ) = [list(shape) for shape in backend_model.builds]
            self.run = lambda: backend_model.test_step(data)

    def record(self, times_ms: Sequence[float], warmup: int) -> dict:
        return make_record(
            model=self.name, config=self.config, phase='benchmark', mode=self.mode,
            backend=self.backend, device=BACKENDS[self.backend].device,
            precision=self.precision, deploy=True, batch_size=self.batch,
            input_shape=self.input_shape, warmup=warmup,
            stats=latency_stats(times_ms, [self.batch] * len(times_ms)))


def markdown_row(record: dict) -> str:
    return (f'| {record["model"]} | {record["config"]} | {record["mode"]} | '
            f'{record["backend"]} | {record["precision"]} | '
            f'{"x".join(map(str, record["input_shape"][2:]))} | {record["batch_size"]} | '
            f'{record["median_ms"]:.2f} | {record["p90_ms"]:.2f} | {record["fps"]:.2f} |')


def benchmark_configs(configs: Sequence[Tuple[str, Optional[str]]], backend: str = 'cpu',
                      iters: int = 50, warmup: int = 10, **options) -> Tuple[List[dict], str]:
    """Time (config, checkpoint) pairs interleaved in this process; ``options`` go to
    :class:`Candidate`. Returns the records and a Markdown report (a ratio line when two
    configs are compared)."""
    candidates = [Candidate(config, checkpoint, backend, **options)
                  for config, checkpoint in configs]
    sync = torch.cuda.synchronize if BACKENDS[backend].device == 'cuda' else lambda: None
    timings = time_interleaved({str(i): c.run for i, c in enumerate(candidates)},
                               repeats=iters, warmup=warmup, sync=sync)
    records = [c.record(timings[str(i)]['times_ms'], warmup) for i, c in enumerate(candidates)]
    lines = [f'{records[0]["hardware"]}, torch {torch.__version__}, '
             f'{torch.get_num_threads()} threads; per-image latency over {iters} iterations '
             f'after {warmup} warm-up', TABLE_HEADER]
    lines += [markdown_row(record) for record in records]
    if len(records) == 2:
        ratio = records[0]['median_ms'] / records[1]['median_ms']
        lines.append(f'ratio {records[0]["config"]} / {records[1]["config"]} (median latency): '
                     f'{ratio:.3f}')
    return records, '\n'.join(lines)
