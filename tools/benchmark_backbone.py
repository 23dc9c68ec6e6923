"""mmlow backbones in deploy mode (BN fused) against timm's eager model of the same variant.

    python tools/benchmark_backbone.py [--models lowformer_b1 ...] [--sizes 224 512]
                                       [--batches 1 8] [--repeats 20] [--threads N]

Same process, same input, interleaved runs; prints per-config median latency of both and
the ratio mmlow / timm (below 1.0: mmlow is faster). Both compute the last stage's feature map
(timm through forward_intermediates), checked equal before timing.
"""
import argparse
import warnings

warnings.filterwarnings('ignore')

import torch  # noqa: E402

import mmlow  # noqa: E402,F401
from mmlow.benchmark.timm_pair import backbone_vs_timm  # noqa: E402

FLAGSHIPS = ('lowformer_b1', 'efficientvit_m4', 'efficientformer_l1', 'efficientformerv2_s1')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--models', nargs='+', default=list(FLAGSHIPS))
    parser.add_argument('--sizes', nargs='+', type=int, default=[224, 512])
    parser.add_argument('--batches', nargs='+', type=int, default=[1, 8])
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--threads', type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, CPU eager fp32')
    print('| model | input | timm eager (ms) | mmlow deploy (ms) | ratio mmlow/timm |')
    print('|---|---|---|---|---|')
    worst = 0.0
    for row in backbone_vs_timm(args.models, args.sizes, args.batches, args.repeats):
        worst = max(worst, row['ratio'])
        print(f'| {row["name"]} | {row["input"]} | {row["timm_ms"]:.1f} | '
              f'{row["mmlow_ms"]:.1f} | {row["ratio"]:.3f} |', flush=True)
    print(f'worst ratio: {worst:.3f}')


if __name__ == '__main__':
    main()
