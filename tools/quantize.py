"""Post-training static INT8 quantization of a config's deployed model (BN fused) for
onnxruntime or openvino, calibrated on images of the config's own training set through its
own test pipeline.

    python tools/quantize.py CONFIG CHECKPOINT --backend openvino|onnxruntime [--calib N]
                             [--out DIR] [--shape H W] [--keep-float [PART ...]]

Writes DIR/model_int8.onnx (onnxruntime, QDQ) or DIR/model_int8.xml + .bin (openvino, NNCF),
the fp32 export it was made from, and DIR/quantization.json (calibration source, input shape,
the nodes kept in floating point, the error against eager). A tracking config gives its two
graphs (template branch, search branch), calibrated on crops of its training pairs. What stays
in floating point and why: docs/latency.md, "INT8". tools/test.py --backend B --precision int8
evaluates what the quantized model computes; tools/benchmark.py times it.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

import mmlow  # noqa: F401
from mmlow.deploy import BackendUnavailableError, OutputMismatchError
from mmlow.deploy.export import quantize_config
from mmlow.deploy.quantize import QUANTIZERS
from mmlow.runner import positive_int, resolve_checkpoint, run_cli
from mmlow.runner.cli import add_calibration_args


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='checkpoint file, or a work dir to use its latest')
    parser.add_argument('--backend', required=True, choices=list(QUANTIZERS))
    add_calibration_args(parser, 'training images (tracking: pairs)')
    parser.add_argument('--out', help='output folder (default: work_dirs/<config>/int8_<backend>)')
    parser.add_argument('--shape', nargs=2, type=positive_int, metavar=('H', 'W'),
                        help='input size after pre-processing (default: the most common size '
                        'of the calibration images)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)

    def quantize() -> int:
        out = args.out or osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0],
                                   f'int8_{args.backend}')
        print(quantize_config(args.config, resolve_checkpoint(args.checkpoint), args.backend,
                              out, args.calib, args.shape, args.cfg_options,
                              args.keep_float))
        return 0
    return run_cli(quantize, user_errors=(BackendUnavailableError, OutputMismatchError,
                                          ValueError))


if __name__ == '__main__':
    sys.exit(main())
