"""Compare backbone swaps of one pipeline: accuracy, end-to-end FPS per device, backbone
latency, parameters and MACs in one Markdown table, and one figure (PNG and SVG) with the
MACs-vs-latency scatter and its rank correlation ("beyond MACs").

    python tools/compare_backbones.py CONFIG [CONFIG ...] [--devices cpu torchscript ...]
        [--results results.json [--metric coco/bbox_mAP ...]] [--shape H W] [--batch B]
        [--iters N] [--warmup W] [--threads T] [--out-dir DIR]

On each device the configs are timed interleaved in one process (tools/benchmark.py's
measurement: real pre- and post-processing around the backend's tensor forward, random
weights). The backbone latency is timed on the first device. ``--results`` is a JSON object
from config name (file name with or without .py) to a number, or to a dict of metrics of which
those named by ``--metric`` are shown (one column each; the first is plotted). Writes
compare.md, compare.json, compare.png and compare.svg to --out-dir.
"""
import argparse
import json
import os
import os.path as osp
import sys
import warnings

warnings.filterwarnings('ignore')

import torch  # noqa: E402

import mmlow  # noqa: E402,F401
from mmlow.analysis import count_macs, count_params  # noqa: E402
from mmlow.benchmark import (BACKENDS, BackendModel, BackendUnavailableError,  # noqa: E402
                             OutputMismatchError, build_backend, check_backend, latency_stats,
                             synthetic_batch, time_interleaved)
from mmlow.benchmark.compare import compare_plot, compare_table, correlations  # noqa: E402
from mmlow.benchmark.loading import DEFAULT_SHAPES, model_from_config  # noqa: E402
from mmlow.benchmark.record import hardware_string  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--devices', nargs='+', default=['cpu'], choices=list(BACKENDS))
    parser.add_argument('--results', help='accuracy per config (JSON)')
    parser.add_argument('--metric', nargs='+', help='which metrics of --results to show')
    parser.add_argument('--shape', nargs=2, type=int, metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--iters', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--threads', type=int)
    parser.add_argument('--out-dir', default='work_dirs/compare_backbones')
    return parser.parse_args(argv)


def accuracy_of(results: dict, config: str, metrics) -> dict:
    """{metric: value} for ``config`` (``accuracy`` when --results gives a bare number)."""
    stem = osp.splitext(osp.basename(config))[0]
    value = results.get(stem, results.get(f'{stem}.py'))
    if isinstance(value, dict):
        if not metrics:
            raise ValueError(f'--results holds several metrics for {stem}: choose with '
                             f'--metric ({", ".join(value)})')
        return {metric: value.get(metric) for metric in metrics}
    return {metric: value for metric in (metrics or ['accuracy'])}


def _timed(runs: dict, args, sync) -> dict:
    timings = time_interleaved(runs, repeats=args.iters, warmup=args.warmup, sync=sync)
    return {name: latency_stats(t['times_ms'], [args.batch] * len(t['times_ms']))
            for name, t in timings.items()}


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    results = {}
    if args.results:
        with open(args.results) as f:
            results = json.load(f)
    try:
        for device in args.devices:
            check_backend(device)
        models = {}
        for config in args.configs:
            name = osp.splitext(osp.basename(config))[0]
            models[name] = model_from_config(config)
        rows = {}
        for name, (model, scope) in models.items():
            shape = tuple(args.shape or DEFAULT_SHAPES[scope])
            input_shape = (args.batch, 3, *shape)
            metrics = accuracy_of(results, name, args.metric)
            rows[name] = dict(name=name, scope=scope, shape=shape, metrics=metrics,
                              accuracy=next(iter(metrics.values())),
                              params=count_params(model), macs=count_macs(model, input_shape),
                              backbone_macs=count_macs(model.backbone, input_shape), fps={})
        for device in args.devices:
            sync = torch.cuda.synchronize if BACKENDS[device].device == 'cuda' else lambda: None
            runs = {}
            for name, (model, scope) in models.items():
                backend_model = BackendModel(model, device)
                data = synthetic_batch(scope, rows[name]['shape'], args.batch)
                backend_model.test_step(data)  # build and check before timing
                runs[name] = lambda m=backend_model, d=data: m.test_step(d)
            for name, stats in _timed(runs, args, sync).items():
                rows[name]['fps'][device] = stats['fps']
            if device == args.devices[0]:
                runs = {}
                for name, (model, _) in models.items():
                    inputs = torch.randn(args.batch, 3, *rows[name]['shape'])
                    forward = build_backend(device, model.backbone, inputs)
                    runs[name] = lambda f=forward, x=inputs: f(x)
                for name, stats in _timed(runs, args, sync).items():
                    rows[name]['backbone_ms'] = stats['median_ms']
    except (BackendUnavailableError, OutputMismatchError, FileNotFoundError,
            ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2

    rows = list(rows.values())
    rho = correlations(rows, args.devices)
    hardware = hardware_string(BACKENDS[args.devices[-1]].device)
    note = (f'{hardware}, torch {torch.__version__}, {torch.get_num_threads()} threads; '
            f'batch {args.batch}, median of {args.iters} interleaved iterations; random '
            'weights. Spearman rho (MACs vs end-to-end latency): ' + ', '.join(
                f'{d} {"n/a" if r is None else f"{r:.2f}"}' for d, r in rho.items()))
    table = compare_table(rows, args.devices)
    os.makedirs(args.out_dir, exist_ok=True)
    stem = osp.join(args.out_dir, 'compare')
    with open(f'{stem}.md', 'w') as f:
        f.write(f'{table}\n\n{note}\n')
    with open(f'{stem}.json', 'w') as f:
        json.dump(dict(rows=rows, spearman=rho, note=note), f, indent=2)
    figures = compare_plot(rows, args.devices, stem, title=note)
    print(f'{table}\n\n{note}\nwrote {stem}.md, {stem}.json, {", ".join(figures)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
