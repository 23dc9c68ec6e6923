"""End-to-end latency and FPS of a detector, segmenter or classifier config on one backend,
outside training: the LatencyHook's measurement on synthetic images.

    python tools/benchmark.py CONFIG [CKPT] (--backend B [--precision P] | --backends B[/P] ...)
        [--calib N] [--shape H W] [--batch B] [--iters N] [--warmup W] [--backbone-only]
        [--vs OTHER_CONFIG [OTHER_CKPT] ...] [--threads T] [--out results.json]
        [--candidates N|all] [--images DIR] [--mmdet-filter]

Random images (or --images DIR through the config's test pipeline) go through the model's real
preprocessing, its tensor forward on the backend (BN fused, checked against eager) and its real
post-processing; --backbone-only times the backbone alone. --vs (more configs) and --backends
(several backends / precisions, e.g. openvino/int8 openvino/bf16 cpu) time interleaved and print
each run's latency ratio to the last; int8 is calibrated on --calib training images of each
config. A Markdown row per run (detectors: candidates into NMS, boxes out; GMACs, GFLOP/s
beside the matmul peak); --out writes the records (mmlow.benchmark.RECORD_KEYS) as JSON.
--candidates N: about N (score, class) pairs per image pass the score threshold ('all': the
maximum); --mmdet-filter keeps mmdet's dense filter. See benchmark_configs.
"""
import argparse
import sys

from mmengine.config import DictAction

import mmlow  # noqa: F401
from mmlow.runner import positive_int, run_cli
from mmlow.runner.cli import add_calibration_args, backend_argument
from mmlow.deploy import BACKENDS, BackendUnavailableError, OutputMismatchError
from mmlow.deploy.detection import candidates_argument
from mmlow.benchmark.pipeline import benchmark_configs, config_checkpoint_pairs


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', help='weights (default: random)')
    backends = parser.add_mutually_exclusive_group()
    backends.add_argument('--backend', default='cpu', choices=list(BACKENDS))
    backends.add_argument('--backends', nargs='+', type=backend_argument, metavar='B[/P]')
    parser.add_argument('--precision', help='where the backend has a choice (cpu, cpu-compile, '
                        'openvino: bf16; onnxruntime, openvino: int8)')
    add_calibration_args(parser, 'training images of each config')
    parser.add_argument('--shape', nargs=2, type=positive_int, metavar=('H', 'W'))  # DEFAULT_SHAPES
    parser.add_argument('--batch', type=positive_int, default=1)
    parser.add_argument('--iters', type=positive_int, default=50, help='timed iterations')
    parser.add_argument('--warmup', type=int, default=10)
    parser.add_argument('--backbone-only', action='store_true')
    parser.add_argument('--vs', nargs='+', default=[], metavar='OTHER_CONFIG [OTHER_CKPT]',
                        help='more configs (each .py optionally followed by its checkpoint) '
                        'to time interleaved')
    parser.add_argument('--threads', type=int, help='torch / backend CPU threads')
    parser.add_argument('--out', help='write the records here (JSON list)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides for every config, key=value')
    parser.add_argument('--candidates', type=candidates_argument)
    parser.add_argument('--images', help='a folder of images (default: random ones)')
    parser.add_argument('--mmdet-filter', action='store_true')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)

    def benchmark() -> int:
        configs = [(args.config, args.checkpoint)] + config_checkpoint_pairs(args.vs)
        _, report = benchmark_configs(
            configs, args.backend, args.iters, args.warmup, out=args.out, threads=args.threads,
            precision=args.precision, shape=args.shape, batch=args.batch,
            backbone_only=args.backbone_only, cfg_options=args.cfg_options,
            candidates=args.candidates, images_dir=args.images,
            fast_postprocess=not args.mmdet_filter, calibration_images=args.calib,
            variants=args.backends, keep_float=args.keep_float)
        print(report)
        return 0
    return run_cli(benchmark, user_errors=(BackendUnavailableError, OutputMismatchError,
                                           FileNotFoundError, ValueError))


if __name__ == '__main__':
    sys.exit(main())
