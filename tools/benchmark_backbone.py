"""mmlow backbones in deploy mode (BN fused), on one or more backends and precisions, against
timm's eager fp32 model of the same variant.

    python tools/benchmark_backbone.py [--models lowformer_b1 ...] [--sizes 224 512]
        [--batches 1 8] [--backends cpu/fp32 cpu/bf16 openvino/bf16 openvino/int8 ...]
        [--calib N] [--calib-config CONFIG] [--repeats 20] [--threads N]

Same process, same input, interleaved runs; prints per config the median latency of timm and
of each variant, the ratio variant / timm (below 1.0: mmlow is faster), and the achieved
GFLOP/s beside the machine's matmul peak of that precision on the same threads. Every variant
computes the last stage's feature map (timm through forward_intermediates), checked against
timm first. int8 variants are quantized on --calib images of --calib-config's training set
(and every variant then runs on those images rather than random input); their rate is given
beside the int8 GEMM peak of their runtime.
"""
import argparse

import torch

import mmlow  # noqa: F401
from mmlow.deploy.quantize import backbone_calibration
from mmlow.runner.cli import add_calibration_args, backend_argument
from mmlow.reports.timm_pair import backbone_report

FLAGSHIPS = ('lowformer_b1', 'efficientvit_m4', 'efficientformer_l1', 'efficientformerv2_s1')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--models', nargs='+', default=list(FLAGSHIPS))
    parser.add_argument('--sizes', nargs='+', type=int, default=[224, 512])
    parser.add_argument('--batches', nargs='+', type=int, default=[1, 8])
    parser.add_argument('--backends', nargs='+', type=backend_argument,
                        default=[('cpu', 'fp32')],
                        help='NAME[/PRECISION] each, e.g. cpu/bf16 openvino/bf16')
    add_calibration_args(parser, config_option=True)
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--threads', type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    calibration = None
    if any(precision == 'int8' for _, precision in args.backends):
        calibration = backbone_calibration(args.calib_config, args.calib, args.keep_float)
    for line in backbone_report(args.models, args.sizes, args.batches, args.repeats,
                                args.backends, calibration):
        print(line, flush=True)


if __name__ == '__main__':
    main()
