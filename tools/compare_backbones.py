"""Compare backbone swaps of one pipeline: accuracy, end-to-end FPS per backend, backbone
latency, parameters and MACs in one Markdown table, and one figure (PNG and SVG) with the
MACs-vs-latency scatter and its rank correlation ("beyond MACs").

    python tools/compare_backbones.py CONFIG [CONFIG ...] [--backends cpu torchscript ...]
        [--results results.json [--metric coco/bbox_mAP ...]] [--shape H W] [--batch B]
        [--iters N] [--warmup W] [--threads T] [--out-dir DIR]

On each backend the configs are timed interleaved in one process (tools/benchmark.py's
measurement: real pre- and post-processing around the backend's tensor forward, random
weights). The backbone latency is timed on the first backend. ``--results`` is a JSON object
from config name (file name with or without .py) to a number, or to a dict of metrics of which
those named by ``--metric`` are shown (one column each; the first is plotted). Writes
compare.md, compare.json, compare.png and compare.svg to --out-dir. Detector rows give the
(score, class) candidates per image into NMS and the boxes out; --candidates N|all sets them
(see tools/benchmark.py).
"""
import argparse
import sys

import torch

import mmlow  # noqa: F401
from mmlow.runner import positive_int
from mmlow.deploy import BACKENDS, BackendUnavailableError, OutputMismatchError
from mmlow.deploy.detection import candidates_argument
from mmlow.reports.swaps import compare_backbones


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--backends', nargs='+', default=['cpu'],
                        choices=list(BACKENDS))
    parser.add_argument('--results', help='accuracy per config (JSON)')
    parser.add_argument('--metric', nargs='+', help='which metrics of --results to show')
    parser.add_argument('--shape', nargs=2, type=positive_int, metavar=('H', 'W'))
    parser.add_argument('--batch', type=positive_int, default=1)
    parser.add_argument('--iters', type=positive_int, default=30)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--threads', type=int)
    parser.add_argument('--out-dir', default='work_dirs/compare_backbones')
    parser.add_argument('--candidates', type=candidates_argument,
                        help="(score, class) pairs per image over the score threshold, or 'all'")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        print(compare_backbones(args.configs, args.backends, args.results, args.metric,
                                args.shape, args.batch, args.iters, args.warmup, args.out_dir,
                                args.candidates))
    except (BackendUnavailableError, OutputMismatchError, FileNotFoundError,
            ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
