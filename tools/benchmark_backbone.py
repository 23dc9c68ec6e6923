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
from mmengine.registry import DefaultScope  # noqa: E402

from mmlow.converters import FAMILIES, convert_state_dict, parse_arch  # noqa: E402
from mmlow.models.layers import relative_offset_index  # noqa: E402
from mmlow.registry import MODELS  # noqa: E402

FLAGSHIPS = ('lowformer_b1', 'efficientvit_m4', 'efficientformer_l1', 'efficientformerv2_s1')


def _timm_model(name: str, size: int) -> torch.nn.Module:
    """timm's model of ``name`` for ``size`` inputs.

    timm builds EfficientFormer V1's attention bias for 7x7 tokens only (224 inputs) and V2's
    for its ``img_size``; at other sizes both get the tables their own code would build for
    that token grid, so that timm runs the same computation as mmlow there.
    """
    family, _ = parse_arch(name)
    if family == 'efficientformerv2':
        return timm.create_model(name, img_size=size)
    model = timm.create_model(name)
    if family == 'efficientformer' and size != 224:
        grid = size // 32
        for module in model.modules():
            if hasattr(module, 'attention_bias_idxs'):
                module.attention_biases = torch.nn.Parameter(
                    torch.zeros(module.attention_biases.shape[0], grid * grid))
                module.attention_bias_idxs = relative_offset_index(grid)
    return model


def build_pair(name: str, size: int):
    """(timm eager model, mmlow deployed backbone) with the same weights, both in eval mode."""
    reference = _timm_model(name, size).eval()
    family, arch = parse_arch(name)
    state_dict, _ = convert_state_dict(reference.state_dict(), family)
    cfg = FAMILIES[family].classifier_cfg(arch)
    if family.startswith('efficientformer'):
        cfg['backbone']['pretrain_img_size'] = size
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        classifier = MODELS.build(cfg).eval()
    classifier.load_state_dict(state_dict)
    backbone = classifier.backbone
    backbone.out_indices = (len(backbone.stages) - 1, )
    backbone.switch_to_deploy()
    return reference, backbone


@torch.inference_mode()
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
    for name in args.models:
        for size in args.sizes:
            reference, backbone = build_pair(name, size)
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
