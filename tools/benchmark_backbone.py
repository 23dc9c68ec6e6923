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

import timm  # noqa: E402
import torch  # noqa: E402

import mmlow  # noqa: E402,F401
from mmlow.benchmark import time_interleaved  # noqa: E402
from mmlow.converters import FAMILIES, build_classifier, convert_state_dict, parse_arch  # noqa: E402

FLAGSHIPS = {
    'lowformer_b1': 'lowformer_b1',
    'efficientvit_m4': 'efficientvit_m4',
    'efficientformer_l1': 'efficientformer_l1',
    'efficientformerv2_s1': 'efficientformerv2_s1',
}


def build_pair(name: str):
    """(timm eager model, mmlow deployed backbone) with the same weights, both in eval mode."""
    reference = timm.create_model(FLAGSHIPS[name]).eval()
    family, _ = parse_arch(name)
    state_dict, _ = convert_state_dict(reference.state_dict(), family)
    classifier = build_classifier(name).eval()
    classifier.load_state_dict(state_dict)
    backbone = classifier.backbone
    backbone.out_indices = (len(backbone.stages) - 1, )
    backbone.switch_to_deploy()
    return reference, backbone


@torch.inference_mode()
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--models', nargs='+', default=[m for m in FLAGSHIPS
                                                        if parse_arch(m)[0] in FAMILIES])
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
    for name in args.models:
        reference, backbone = build_pair(name)
        for size in args.sizes:
            for batch in args.batches:
                x = torch.randn(batch, 3, size, size)
                def timm_features():
                    return reference.forward_intermediates(x, indices=1,
                                                           intermediates_only=True)[-1]
                expected = timm_features()
                got = backbone(x)[-1]
                if expected.shape != got.shape or (expected - got).abs().max() > 1e-3:
                    raise RuntimeError(f'{name}: deployed outputs differ from timm at {size}')
                result = time_interleaved({'timm': timm_features,
                                           'mmlow': lambda: backbone(x)},
                                          repeats=args.repeats, warmup=3)
                ratio = result['mmlow']['median_ms'] / result['timm']['median_ms']
                worst = max(worst, ratio)
                print(f'| {name} | {batch}x3x{size}x{size} | {result["timm"]["median_ms"]:.1f} '
                      f'| {result["mmlow"]["median_ms"]:.1f} | {ratio:.3f} |', flush=True)
    print(f'worst ratio: {worst:.3f}')


if __name__ == '__main__':
    main()
