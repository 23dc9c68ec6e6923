"""Train and evaluate backbone swaps of one pipeline, then compare them in one table.

    python tools/compare_swaps.py CONFIG [CONFIG ...] [--work-dir DIR] [--backends cpu ...]
        [--shape H W] [--iters N] [--warmup W]

Each config trains in its own process with tools/train.py under DIR/<config name> (an
interrupted run resumes; a finished one is not repeated) and is evaluated with tools/test.py;
tools/compare_backbones.py's measurement then adds params, MACs, backbone latency and
end-to-end FPS per backend. Writes DIR/results.json (metrics and training minutes per config)
and DIR/compare.{md,json,png,svg}. On the embedded shapes data the whole comparison runs
offline on a CPU, e.g.

    python tools/compare_swaps.py configs/detection/mask-rcnn_{lowformer_b1,efficientvit_m4,\
efficientformer_l1}_shapes.py --work-dir work_dirs/compare_mask-rcnn --shape 128 128
"""
import argparse
import os.path as osp
import sys

from mmlow.runner import positive_int
from mmlow.reports.swap_runs import compare_swaps
from mmlow.deploy import BACKENDS, BackendUnavailableError, OutputMismatchError
from mmlow.deploy.detection import candidates_argument

TOOLS = osp.dirname(osp.abspath(__file__))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--work-dir', default='work_dirs/compare_swaps')
    parser.add_argument('--backends', nargs='+', default=['cpu'], choices=list(BACKENDS))
    parser.add_argument('--shape', nargs=2, type=positive_int, metavar=('H', 'W'),
                        help='input size of the latency measurement and MACs')
    parser.add_argument('--iters', type=positive_int, default=30)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--candidates', type=candidates_argument,
                        help="(score, class) pairs per image over the score threshold, or 'all'")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        print(compare_swaps(args.configs, args.work_dir,
                            [sys.executable, osp.join(TOOLS, 'train.py')],
                            [sys.executable, osp.join(TOOLS, 'test.py')], args.backends,
                            args.shape, args.iters, args.warmup, args.candidates))
    except (FileNotFoundError, ValueError, BackendUnavailableError,
            OutputMismatchError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    except RuntimeError as exc:  # a training or evaluation run failed
        print(f'error: {exc}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
