"""End-to-end (or backbone-only) latency of task configs on one backend, outside training: the
LatencyHook's measurement on synthetic or given images (tools/benchmark.py)."""
import itertools
import json
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import torch

from mmlow.analysis import count_macs
from mmlow.config import config_path, load_config
from mmlow.deploy.backend_model import BackendModel
from mmlow.deploy.backends import BACKENDS, build_backend
from mmlow.deploy.detection import PostprocessCounter, mean_counts, set_candidates
from mmlow.deploy.loading import DEFAULT_SHAPES, image_batches, model_from_config
from mmlow.deploy.quantize import (DEFAULT_CALIBRATION_IMAGES, KEEP_FLOAT,
                                   calibration_from_config)
from mmlow.deploy.tracking import build_tracker_steps, tracker_calibration
from .peak import achieved_gflops, machine_peaks, peak_for, peaks_text, rate_cell
from .record import latency_stats, make_record, model_name, most_common, percentile
from .synthetic import synthetic_batch
from .timing import device_sync, time_interleaved

TABLE_HEADER = ('| model | config | mode | backend | precision | input | batch | median ms/img '
                '| p90 ms/img | FPS | forward ms/img | NMS in/img | boxes/img | GMACs/img '
                '| GFLOP/s (% peak) |\n' + '|---' * 15 + '|')


class Candidate:
    """One config made ready to time: ``run`` does one iteration, ``record`` describes it.

    End-to-end runs go over synthetic images of ``shape``, or over the images of
    ``images_dir`` through the config's test pipeline (one batch per iteration, in turn;
    every input shape is built before timing). ``candidates`` (a count or 'all') sets a
    single-stage detector's classification bias so that about that many (score, class) pairs
    per image pass the score threshold (mmlow.deploy.detection.set_candidates, on the first
    batch); ``fast_postprocess`` False keeps mmdet's dense score filter. At int8 the model is
    quantized on ``calibration_images`` images of the config's training set, ``keep_float``
    left in floating point (mmlow.deploy.quantize).
    """

    def __init__(self, config: str, checkpoint: Optional[str], backend: str,
                 precision: Optional[str] = None, shape: Optional[Tuple[int, int]] = None,
                 batch: int = 1, backbone_only: bool = False,
                 cfg_options: Optional[dict] = None, candidates: Union[int, str, None] = None,
                 images_dir: Optional[str] = None, fast_postprocess: bool = True,
                 calibration_images: int = DEFAULT_CALIBRATION_IMAGES,
                 keep_float: Sequence[str] = KEEP_FLOAT):
        model, scope = model_from_config(config, checkpoint, cfg_options)
        calibration = self.calibration_source = None
        if precision == 'int8':
            cfg = load_config(config_path(config), cfg_options)
            calibration = (
                tracker_calibration(cfg, model, calibration_images, keep_float=keep_float)
                if hasattr(model, 'search_forward') else
                calibration_from_config(cfg, model.data_preprocessor, calibration_images,
                                        keep_float=keep_float))
            self.calibration_source = calibration.source
        self.config = osp.basename(config)
        self.name = model_name(model)
        self.backend = backend
        self.batch = batch
        self.mode = 'backbone' if backbone_only else 'end2end'
        self.counter = PostprocessCounter()
        self.counts = ([], [])
        self.forward_ms: List[float] = []
        self.macs = None  # of the network forward, per image
        if hasattr(model, 'search_forward'):
            # a tracker: the per-frame step, its template's features computed once and cached
            self.mode = 'tracking'
            _, _, step, search = build_tracker_steps(model, backend, precision, calibration)
            self.precision, self.input_shape = step.precision, list(search.shape)
            self.run = lambda: step(search)
            return
        self.shape = tuple(shape or DEFAULT_SHAPES[scope])
        if backbone_only:
            inputs = torch.randn(batch, 3, *self.shape)
            forward = build_backend(backend, model.backbone, inputs, precision,
                                    calibration=calibration)
            # already where the backend runs: a timed call must not copy it there each time
            inputs = inputs.to(forward.device)
            self.precision, self.input_shape = forward.precision, list(inputs.shape)
            self.macs = count_macs(model.backbone, tuple(inputs.shape)) / batch
            self.run = lambda: forward(inputs)
            return
        batches = (image_batches(config, images_dir, batch, cfg_options) if images_dir
                   else [synthetic_batch(scope, self.shape, batch)])
        if candidates is not None:
            with torch.inference_mode():
                inputs = model.data_preprocessor(batches[0], False)['inputs']
            set_candidates(model, inputs, candidates)
        backend_model = BackendModel(model, backend, precision, fast_postprocess, calibration)
        for data in batches:
            backend_model.test_step(data)  # builds (and checks) the backend per input shape
        self.precision = backend_model.precision
        self.input_shape = list(most_common(list(backend_model.builds)))
        self.macs = count_macs(model, tuple(self.input_shape)) / batch
        if backend_model.dense_head is not None:
            self.counter.attach(backend_model.dense_head)
        turns = itertools.cycle(batches)

        def run():
            backend_model.test_step(next(turns))
            if backend_model.forward_ms is not None:
                self.forward_ms.append(backend_model.forward_ms / batch)
        self.run = run

    def timed(self) -> None:
        """Run once; keep the post-processing counts of this run."""
        self.counter.take()
        self.run()
        candidates, boxes = self.counter.take()
        self.counts[0].extend(candidates)
        self.counts[1].extend(boxes)

    def record(self, times_ms: Sequence[float], warmup: int, peaks: dict) -> dict:
        """``peaks``: the machine's matmul peaks (mmlow.benchmark.peak.machine_peaks); the
        achieved GFLOP/s is the network forward's (backbone, neck, head on the backend; the
        whole iteration when the backend does not time its forward apart)."""
        stats = latency_stats(times_ms, [self.batch] * len(times_ms))
        forward_ms = percentile(self.forward_ms, 0.5) if self.forward_ms else None
        rates = {}
        if self.macs is not None:
            rates = dict(gmacs=self.macs / 1e9,
                         gflops=achieved_gflops(self.macs, forward_ms or stats['median_ms']),
                         peak_gflops=peak_for(peaks, self.precision, self.backend))
        return make_record(
            model=self.name, config=self.config, phase='benchmark', mode=self.mode,
            backend=self.backend, device=BACKENDS[self.backend].device,
            precision=self.precision, deploy=True, batch_size=self.batch,
            input_shape=self.input_shape, warmup=warmup, stats=stats,
            counts=dict(mean_counts(*self.counts), forward_ms=forward_ms, **rates))


def _number(value: Optional[float], digits: int = 0) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def markdown_row(record: dict) -> str:
    return (f'| {record["model"]} | {record["config"]} | {record["mode"]} | '
            f'{record["backend"]} | {record["precision"]} | '
            f'{"x".join(map(str, record["input_shape"][2:]))} | {record["batch_size"]} | '
            f'{record["median_ms"]:.2f} | {record["p90_ms"]:.2f} | {record["fps"]:.2f} | '
            f'{_number(record["forward_ms"], 2)} | {_number(record["nms_candidates"])} | '
            f'{_number(record["boxes_out"])} | {_number(record["gmacs"], 2)} | '
            f'{_rate(record)} |')


def _rate(record: dict) -> str:
    if record['gflops'] is None:
        return '-'
    return rate_cell(record['gflops'], record['peak_gflops'])


def config_checkpoint_pairs(tokens: Sequence[str]) -> List[Tuple[str, Optional[str]]]:
    """'a.py ckpt b.py c.py' -> [(a.py, ckpt), (b.py, None), (c.py, None)]."""
    pairs = []
    for token in tokens:
        if token.endswith('.py'):
            pairs.append((token, None))
        elif pairs and pairs[-1][1] is None:
            pairs[-1] = (pairs[-1][0], token)
        else:
            raise ValueError(f'{token!r} is neither a config (.py) nor the checkpoint of the '
                             'config before it')
    return pairs


def benchmark_configs(configs: Sequence[Tuple[str, Optional[str]]], backend: str = 'cpu',
                      iters: int = 50, warmup: int = 10, out: Optional[str] = None,
                      threads: Optional[int] = None,
                      variants: Optional[Sequence[Tuple[str, str]]] = None,
                      **options) -> Tuple[List[dict], str]:
    """Time (config, checkpoint) pairs interleaved in this process (on ``threads`` CPU threads
    when given), on ``backend`` or, given ``variants``, on each (backend, precision) of them
    (all on one device); ``options`` go to :class:`Candidate`. Returns the records (also
    written to ``out`` as JSON when given) and a Markdown report, with each run's median
    latency ratio to the last one's when there are several."""
    if threads:
        torch.set_num_threads(threads)
    if variants and options.get('precision'):
        raise ValueError('--backends names each precision (B/P): give it without --precision')
    if variants:
        candidates = [Candidate(config, checkpoint, name, **dict(options, precision=precision))
                      for config, checkpoint in configs for name, precision in variants]
    else:
        candidates = [Candidate(config, checkpoint, backend, **options)
                      for config, checkpoint in configs]
    devices = {BACKENDS[c.backend].device for c in candidates}
    if len(devices) > 1:
        raise ValueError('runs timed side by side must share a device: '
                         f'{", ".join(sorted(devices))} given')
    device = devices.pop()
    peaks = machine_peaks(device=device, int8_backends=[
        c.backend for c in candidates if c.precision == 'int8'])
    label = (lambda r: f'{r["config"]} {r["backend"]}/{r["precision"]}') if variants else \
        (lambda r: r['config'])
    sync = device_sync(device)
    timings = time_interleaved({str(i): c.timed for i, c in enumerate(candidates)},
                               repeats=iters, warmup=warmup, sync=sync)
    records = [c.record(timings[str(i)]['times_ms'], warmup, peaks)
               for i, c in enumerate(candidates)]
    lines = [f'{records[0]["hardware"]}, torch {torch.__version__}, '
             f'{torch.get_num_threads()} threads; per-image latency over {iters} iterations '
             f'after {warmup} warm-up; matmul peak ' +
             peaks_text(peaks),
             TABLE_HEADER]
    lines += [markdown_row(record) for record in records]
    lines += [f'int8 calibration of {c.config}: {c.calibration_source}'
              for c in candidates if c.calibration_source]
    last = records[-1]
    for record in records[:-1]:
        lines.append(f'ratio {label(record)} / {label(last)} (median latency): '
                     f'{record["median_ms"] / last["median_ms"]:.3f}')
    if out:
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        with open(out, 'w') as f:
            json.dump(records, f, indent=2)
    return records, '\n'.join(lines)
