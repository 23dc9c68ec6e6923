"""Evaluate a checkpoint of any mmlow config (COCO mAP, ADE20K mIoU, retrieval recall,
tracking AO / success)."""
import argparse
import numbers
import sys

import mmengine

import mmlow  # noqa: F401
from mmlow.runner import add_common_args, run_cli, run_testing
from mmlow.runner.cli import add_calibration_args
from mmlow.runner.testing import metrics_markdown, prepare_test_config
from mmlow.runner.tracking_test import evaluate_tracking_checkpoint
from mmlow.deploy import BACKENDS
from mmlow.fileio import ATOMIC


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (evaluate) a checkpoint')
    add_common_args(parser)
    parser.add_argument('checkpoint', help='checkpoint file, or a work dir to use its latest')
    parser.add_argument('--out', help='dump the raw predictions to this pickle file '
                        '(tracking: the folder for the per-sequence result files)')
    parser.add_argument('--show-dir', help='write images with the predictions drawn here')
    parser.add_argument('--metrics-out', help='also write the metrics to this JSON file')
    parser.add_argument('--backend', choices=list(BACKENDS),
                        help='evaluate (and time) the deployed model on this backend: the '
                        'metrics of what it computes, e.g. onnxruntime, or cpu with '
                        '--precision bf16')
    parser.add_argument('--precision', help='the backend\'s precision where it has a choice '
                        '(int8: onnxruntime, openvino)')
    add_calibration_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    def test():
        cfg = prepare_test_config(args)
        if cfg.get('tracking_test'):
            print(evaluate_tracking_checkpoint(cfg, args.out, args.metrics_out, args.strict))
            return 0
        metrics = run_testing(cfg, strict=args.strict, config_path=args.config)
        print(metrics_markdown(metrics))
        if args.metrics_out:
            # numbers.Real: numpy scalars too (mmseg reports float32)
            mmengine.dump({k: float(v) for k, v in metrics.items()
                           if isinstance(v, numbers.Real)}, args.metrics_out, indent=2,
                          backend_args=ATOMIC)
        return 0
    return run_cli(test, debug=args.debug)


if __name__ == '__main__':
    sys.exit(main())
