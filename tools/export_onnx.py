"""Export the tensor forward of a detector, segmenter or classifier config (or its backbone)
to ONNX, in deploy mode (BN fused), checked against eager PyTorch with ONNX Runtime.

    python tools/export_onnx.py CONFIG [CKPT] --out model.onnx [--shape H W] [--batch B]
                                [--backbone-only] [--opset 17] [--exporter torchscript|dynamo]

The exported graph is ``model(inputs, mode='tensor')``: backbone, neck and head on a
normalised (N, 3, H, W) input, without pre-processing or post-processing (NMS, box decoding,
logit resizing), which stay in Python. Without CKPT the weights are random (for timing).
Exit status 1 when the export's outputs differ from eager.

A tracking config is exported as the tracker runs: two graphs in the folder --out (template
branch; search branch + head, taking the template's features), checked against eager PyTorch
within 1e-4.
"""
import argparse
import sys

from mmengine.config import DictAction

import mmlow  # noqa: F401
from mmlow.runner import positive_int, run_cli
from mmlow.deploy.export import export_config_onnx
from mmlow.deploy import OutputMismatchError
from mmlow.deploy.backends import ONNX_OPSET


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', help='weights (default: random)')
    parser.add_argument('--out', required=True,
                        help='the .onnx file to write (a tracking config: a folder)')
    parser.add_argument('--shape', nargs=2, type=positive_int, metavar=('H', 'W'),
                        help='input size after pre-processing, padding included (default: '
                        '800 1344 for detectors, 512 512 for segmenters, 224 224 otherwise)')
    parser.add_argument('--batch', type=positive_int, default=1)
    parser.add_argument('--backbone-only', action='store_true')
    parser.add_argument('--opset', type=int, default=ONNX_OPSET)
    parser.add_argument('--exporter', choices=['torchscript', 'dynamo'], default='torchscript')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)

    def export() -> int:
        try:
            print(export_config_onnx(args.config, args.checkpoint, args.out, args.shape,
                                     args.batch, args.backbone_only, args.opset, args.exporter,
                                     args.cfg_options))
        except OutputMismatchError as exc:
            print(f'error: {exc}', file=sys.stderr)
            return 1
        return 0
    return run_cli(export)


if __name__ == '__main__':
    sys.exit(main())
