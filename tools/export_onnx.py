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
import os
import os.path as osp
import sys
import warnings

warnings.filterwarnings('ignore')

import onnx  # noqa: E402
import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

import mmlow  # noqa: E402,F401
from mmlow.apis import load_config  # noqa: E402
from mmlow.apis.tracking import export_tracker, is_tracking_config  # noqa: E402
from mmlow.benchmark import OutputMismatchError, build_backend  # noqa: E402
from mmlow.benchmark.backends import ONNX_OPSET  # noqa: E402
from mmlow.benchmark.loading import DEFAULT_SHAPES, model_from_config  # noqa: E402

TRACKER_TOLERANCE = 1e-4


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', help='weights (default: random)')
    parser.add_argument('--out', required=True,
                        help='the .onnx file to write (a tracking config: a folder)')
    parser.add_argument('--shape', nargs=2, type=int, metavar=('H', 'W'),
                        help='input size after pre-processing, padding included (default: '
                        '800 1344 for detectors, 512 512 for segmenters, 224 224 otherwise)')
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--backbone-only', action='store_true')
    parser.add_argument('--opset', type=int, default=ONNX_OPSET)
    parser.add_argument('--exporter', choices=['torchscript', 'dynamo'], default='torchscript')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    if is_tracking_config(cfg):
        report, error = export_tracker(cfg, args.checkpoint, args.out, args.opset)
        print(report)
        if error > TRACKER_TOLERANCE:
            print(f'error: ONNX Runtime differs from eager by {error:.2e} > '
                  f'{TRACKER_TOLERANCE:.0e}', file=sys.stderr)
            return 1
        return 0
    model, scope = model_from_config(args.config, args.checkpoint, args.cfg_options)
    module = model.backbone if args.backbone_only else model
    inputs = torch.randn(args.batch, 3, *(args.shape or DEFAULT_SHAPES[scope]))
    if osp.dirname(args.out):
        os.makedirs(osp.dirname(args.out), exist_ok=True)
    try:
        forward = build_backend('onnxruntime', module, inputs, onnx_path=args.out,
                                onnx_opset=args.opset, onnx_exporter=args.exporter)
    except OutputMismatchError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    graph = onnx.load(args.out, load_external_data=False).graph
    outputs = ', '.join(f'{out.name} {[d.dim_value for d in out.type.tensor_type.shape.dim]}'
                        for out in graph.output)
    print(f'wrote {args.out} ({args.exporter} exporter, opset {args.opset}, '
          f'{"backbone of " if args.backbone_only else ""}{type(model).__name__}, '
          f'deploy mode)\n  input {list(inputs.shape)}\n  outputs {outputs}\n'
          f'  ONNX Runtime vs eager PyTorch: max relative error {forward.max_error:.2e}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
