"""One command for the synthetic-tracking result: the trained tracker (eager and ONNX Runtime)
against a never-moving box and NCC template matching on the config's held-out sequences, and
the network's per-frame speed on each CPU backend."""
import argparse
import os.path as osp
import sys

import mmlow  # noqa: F401
from mmlow.runner import load_config, resolve_checkpoint, run_cli
from mmlow.runner.cli import add_calibration_args
from mmlow.reports.trackers import CPU_BACKENDS, compare_on_synthetic


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='checkpoint file, or a work dir to use its latest')
    parser.add_argument('--work-dir', help='results and ONNX graphs go here (default: '
                        'work_dirs/<config>/compare)')
    parser.add_argument('--backends', nargs='+', default=list(CPU_BACKENDS),
                        help='backends (NAME or NAME/PRECISION) for the network-speed table; '
                        'NAME/int8 items (onnxruntime, openvino) also track with the INT8 '
                        'graphs (default: %(default)s)')
    add_calibration_args(parser, 'training pairs')
    args = parser.parse_args(argv)

    def compare() -> int:
        cfg = load_config(args.config)
        work_dir = args.work_dir or osp.join(
            'work_dirs', osp.splitext(osp.basename(args.config))[0], 'compare')
        _, table = compare_on_synthetic(cfg, resolve_checkpoint(args.checkpoint), work_dir,
                                        args.backends, args.calib, args.keep_float)
        print(table)
        return 0
    return run_cli(compare)


if __name__ == '__main__':
    sys.exit(main())
