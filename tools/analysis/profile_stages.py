"""Where the time of one end-to-end inference goes, per backend: preprocessing, backbone, neck,
head and post-processing (eager PyTorch), or preprocessing, the deployed network and
post-processing (other backends), as mean ms per image and share of the step.

    python tools/analysis/profile_stages.py CONFIG [CKPT] [--backends cpu onnxruntime ...]
        [--precision bf16] (int8: [--calib N]) [--shape H W] [--batch B] [--iters N] [--warmup W]
        [--candidates N|all] [--out stages.json]

Single-stage detectors and segmenters, random weights unless CKPT, synthetic images of the
input size (default: 800x1344 for detectors, 512x512 for segmenters). ``other`` is what no
stage covers (the step's Python glue); stages and other add up to the step.
"""
import argparse
import json
import sys

from mmengine.config import DictAction

import mmlow  # noqa: F401
from mmlow.runner import positive_int, run_cli
from mmlow.runner.cli import add_calibration_args
from mmlow.deploy import BACKENDS
from mmlow.deploy.detection import candidates_argument
from mmlow.benchmark.stages import profile_stages, stages_table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', help='weights (default: random)')
    parser.add_argument('--backends', nargs='+', default=['cpu'], choices=list(BACKENDS))
    parser.add_argument('--precision', help='where a backend has a choice (bf16; int8 on '
                        'onnxruntime, openvino)')
    add_calibration_args(parser)
    parser.add_argument('--shape', nargs=2, type=positive_int, metavar=('H', 'W'))
    parser.add_argument('--batch', type=positive_int, default=1)
    parser.add_argument('--iters', type=positive_int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--candidates', type=candidates_argument,
                        help='(score, class) pairs per image that pass the score threshold')
    parser.add_argument('--out', help='also write the rows here (JSON)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)

    def profile():
        rows = profile_stages(args.config, args.checkpoint, args.backends, args.precision,
                              args.shape, args.batch, args.iters, args.warmup,
                              args.candidates, args.cfg_options, args.calib)
        print(stages_table(rows))
        if args.out:
            with open(args.out, 'w') as f:
                json.dump(rows, f, indent=2)
        return 0
    return run_cli(profile, user_errors=(ValueError, ))


if __name__ == '__main__':
    sys.exit(main())
