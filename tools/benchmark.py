"""End-to-end latency and FPS of a detector, segmenter or classifier config on one backend,
outside training: the LatencyHook's measurement on synthetic images.

    python tools/benchmark.py CONFIG [CKPT] --backend B [--precision P] [--shape H W]
                              [--batch B] [--iters N] [--warmup W] [--backbone-only]
                              [--vs OTHER_CONFIG [OTHER_CKPT]] [--threads T] [--out results.json]

Random images go through the model's real preprocessing, its tensor forward on the backend
(BN fused, checked against eager) and its real post-processing; --backbone-only times the
backbone alone. --vs times a second config interleaved and prints the latency ratio. Backends:
mmlow.benchmark.BACKENDS (``--device`` is an alias of ``--backend``). Prints a Markdown row per
model; --out gets the records (mmlow.benchmark.RECORD_KEYS) as JSON. See benchmark_configs.
"""
import argparse
import json
import os
import os.path as osp
import sys
import warnings

warnings.filterwarnings('ignore')

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

import mmlow  # noqa: E402,F401
from mmlow.benchmark import (BACKENDS, BackendUnavailableError,  # noqa: E402
                             OutputMismatchError)
from mmlow.benchmark.pipeline import benchmark_configs  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', help='weights (default: random)')
    parser.add_argument('--backend', '--device', default='cpu', choices=list(BACKENDS))
    parser.add_argument('--precision', help='where the backend has a choice (openvino: bf16)')
    parser.add_argument('--shape', nargs=2, type=int, metavar=('H', 'W'),
                        help='image size (default: the task\'s, see DEFAULT_SHAPES)')
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--iters', type=int, default=50, help='timed iterations')
    parser.add_argument('--warmup', type=int, default=10)
    parser.add_argument('--backbone-only', action='store_true')
    parser.add_argument('--vs', nargs='+', metavar=('OTHER_CONFIG', 'OTHER_CKPT'),
                        help='a second config (and checkpoint) to time interleaved')
    parser.add_argument('--threads', type=int, help='torch / backend CPU threads')
    parser.add_argument('--out', help='write the records here (JSON list)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides for every config, key=value')
    args = parser.parse_args(argv)
    if args.vs and len(args.vs) > 2:
        parser.error('--vs takes a config and optionally its checkpoint')
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    configs = [(args.config, args.checkpoint)]
    if args.vs:
        configs.append((args.vs[0], args.vs[1] if len(args.vs) > 1 else None))
    try:
        records, report = benchmark_configs(
            configs, args.backend, args.iters, args.warmup, precision=args.precision,
            shape=args.shape, batch=args.batch, backbone_only=args.backbone_only,
            cfg_options=args.cfg_options)
    except (BackendUnavailableError, OutputMismatchError, FileNotFoundError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    print(report)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(records, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
