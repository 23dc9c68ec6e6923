"""mmlow backbones in deploy mode (BN fused), on one or more backends and precisions, against
timm's eager fp32 model of the same variant.

    python tools/benchmark_backbone.py [--models lowformer_b1 ...] [--sizes 224 512]
        [--batches 1 8] [--backends cpu/fp32 cpu/bf16 openvino/bf16 ...] [--repeats 20]
        [--threads N]

Same process, same input, interleaved runs; prints per config the median latency of timm and
of each variant, the ratio variant / timm (below 1.0: mmlow is faster), and the achieved
GFLOP/s beside the machine's matmul peak of that precision on the same threads. Every variant
computes the last stage's feature map (timm through forward_intermediates), checked against
timm first.
"""
import argparse

import torch

import mmlow  # noqa: F401
from mmlow.runner.cli import backend_argument
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
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--threads', type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    for line in backbone_report(args.models, args.sizes, args.batches, args.repeats,
                                args.backends):
        print(line, flush=True)


if __name__ == '__main__':
    main()
