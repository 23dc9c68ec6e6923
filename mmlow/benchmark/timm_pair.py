"""mmlow models beside timm's reference model of the same variant, with the same weights: what
the tests check numerically and tools/benchmark_backbone.py times (timm is needed here only)."""
from typing import Callable, Iterator, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmlow.converters import convert_state_dict
from mmlow.models.classifiers import build_classifier, split_name
from mmlow.models.layers import relative_offset_index
from mmlow.models.weights import load_strict
from .timing import time_interleaved


def timm_model(name: str, size: int = 224) -> nn.Module:
    """timm's model of ``name`` (e.g. ``lowformer_b1``) for ``size`` inputs.

    timm builds EfficientFormer V1's attention bias for 7x7 tokens only (224 inputs) and V2's
    for its ``img_size``; at other sizes both get the tables their own code would build for
    that token grid, so that timm runs the same computation as mmlow there.
    """
    import timm
    family, _ = split_name(name)
    if family == 'efficientformerv2':
        return timm.create_model(name, img_size=size)
    model = timm.create_model(name)
    if family == 'efficientformer' and size != 224:
        grid = size // 32
        for module in model.modules():
            if hasattr(module, 'attention_bias_idxs'):
                module.attention_biases = nn.Parameter(
                    torch.zeros(module.attention_biases.shape[0], grid * grid))
                module.attention_bias_idxs = relative_offset_index(grid)
    return model


def timm_pair(name: str, size: int = 224,
              prepare: Optional[Callable[[nn.Module], nn.Module]] = None
              ) -> Tuple[nn.Module, nn.Module]:
    """(timm model, mmlow ImageNet classifier) holding the same weights, both in eval mode.

    ``prepare`` may change the timm model's weights first (the tests randomise them). The
    classifier's backbone returns every stage.
    """
    reference = timm_model(name, size)
    if prepare is not None:
        reference = prepare(reference)
    reference.eval()
    family, _ = split_name(name)
    state_dict, _ = convert_state_dict(reference.state_dict(), family)
    options = dict(pretrain_img_size=size) if family.startswith('efficientformer') else {}
    classifier = build_classifier(name, **options).eval()
    load_strict(classifier, state_dict, f'timm {name} weights')
    classifier.backbone.out_indices = tuple(range(len(classifier.backbone.stages)))
    return reference, classifier


@torch.inference_mode()
def backbone_vs_timm(names: Sequence[str], sizes: Sequence[int], batches: Sequence[int],
                     repeats: int = 20) -> Iterator[dict]:
    """Time each mmlow backbone, deployed (BN fused), against timm's eager model, interleaved
    in this process, on the last stage's feature map (checked equal first). Yields one row per
    (name, size, batch) with both medians in ms and their ratio mmlow / timm."""
    for name in names:
        for size in sizes:
            reference, classifier = timm_pair(name, size)
            backbone = classifier.backbone
            backbone.out_indices = (len(backbone.stages) - 1, )
            backbone.switch_to_deploy()
            for batch in batches:
                x = torch.randn(batch, 3, size, size)

                def timm_features():
                    return reference.forward_intermediates(x, indices=1,
                                                           intermediates_only=True)[-1]
                expected, got = timm_features(), backbone(x)[-1]
                if expected.shape != got.shape or (expected - got).abs().max() > 1e-3:
                    raise RuntimeError(f'{name}: deployed outputs differ from timm at {size}')
                result = time_interleaved({'timm': timm_features, 'mmlow': lambda: backbone(x)},
                                          repeats=repeats, warmup=3)
                timm_ms, mmlow_ms = result['timm']['median_ms'], result['mmlow']['median_ms']
                yield dict(name=name, input=f'{batch}x3x{size}x{size}', timm_ms=timm_ms,
                           mmlow_ms=mmlow_ms, ratio=mmlow_ms / timm_ms)
