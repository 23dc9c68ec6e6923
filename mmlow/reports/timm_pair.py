"""mmlow models beside timm's reference model of the same variant, with the same weights: what
the tests check numerically and tools/benchmark_backbone.py times (timm is needed here only)."""
from typing import Callable, Iterator, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmlow.converters import convert_state_dict
from mmlow.models.classifiers import build_classifier, split_name
from mmlow.models.layers import relative_offset_index
from mmlow.models.weights import load_strict
from mmlow.analysis import count_macs
from mmlow.deploy.backends import build_backend, relative_errors
from mmlow.deploy.quantize import Calibration
from mmlow.benchmark.peak import achieved_gflops, machine_peaks, peak_for, peaks_text, rate_cell
from mmlow.benchmark.timing import time_interleaved


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
                     repeats: int = 20,
                     variants: Sequence[Tuple[str, str]] = (('cpu', 'fp32'), ),
                     calibration: Optional[Calibration] = None) -> Iterator[dict]:
    """Time each mmlow backbone, deployed (BN fused) on each (backend, precision) of
    ``variants``, against timm's eager fp32 model, interleaved in this process, on the last
    stage's feature map (each checked against timm first: within 1e-3 in fp32, within the
    backend's tolerance otherwise). Yields one row per (name, size, batch): timm's median in ms,
    the backbone's MACs and per variant its median ms, ratio to timm and largest error against
    timm relative to the largest magnitude of timm's map.

    int8 variants are quantized on ``calibration``; with it, every variant and timm run on its
    first images (fitted to the size) rather than on random input, so that the errors are those
    of images like the ones calibrated on."""
    for name in names:
        for size in sizes:
            reference, classifier = timm_pair(name, size)
            backbone = classifier.backbone
            backbone.out_indices = (len(backbone.stages) - 1, )
            for batch in batches:
                x = (torch.from_numpy(calibration.inputs_for((batch, 3, size, size))[0])
                     if calibration else torch.randn(batch, 3, size, size))

                def timm_features():
                    return reference.forward_intermediates(x, indices=1,
                                                           intermediates_only=True)[-1]
                expected = timm_features()
                runs = {'timm': timm_features}
                errors = {}
                for backend, precision in variants:
                    forward = build_backend(backend, backbone, x, precision,
                                            calibration=calibration)
                    got = forward(x)[-1]
                    if precision == 'fp32' and (expected - got).abs().max() > 1e-3:
                        raise RuntimeError(f'{name}: deployed outputs on {backend} differ '
                                           f'from timm at {size}')
                    key = f'{backend}/{precision}'
                    errors[key] = relative_errors([expected], [got])[0]
                    runs[key] = lambda forward=forward: forward(x)
                result = time_interleaved(runs, repeats=repeats, warmup=3)
                timm_ms = result.pop('timm')['median_ms']
                yield dict(name=name, input=f'{batch}x3x{size}x{size}', timm_ms=timm_ms,
                           macs=count_macs(backbone, tuple(x.shape)),
                           variants={key: dict(ms=value['median_ms'],
                                               ratio=value['median_ms'] / timm_ms,
                                               error=errors[key])
                                     for key, value in result.items()})


def backbone_report(names: Sequence[str], sizes: Sequence[int], batches: Sequence[int],
                    repeats: int = 20,
                    variants: Sequence[Tuple[str, str]] = (('cpu', 'fp32'), ),
                    calibration: Optional[Calibration] = None) -> Iterator[str]:
    """tools/benchmark_backbone.py's output, line by line: the machine's matmul peaks, then a
    Markdown row per (name, size, batch) with, per variant, the median ms, the ratio to timm
    eager fp32, the achieved GFLOP/s as a share of the peak of the variant's precision and the
    relative error against timm; last the worst ratio and error per variant. int8 variants
    (quantized on ``calibration``) are rated against the int8 GEMM peak of their runtime."""
    peaks = machine_peaks(int8_backends=[backend for backend, precision in variants
                                         if precision == 'int8'])
    yield (f'torch {torch.__version__}, {torch.get_num_threads()} threads; matmul peak '
           f'{peaks_text(peaks)}')
    if calibration:
        yield f'int8 calibration and inputs: {calibration.source}'
    keys = [f'{backend}/{precision}' for backend, precision in variants]
    yield ('| model | input | GMACs | timm eager fp32 ms | ' +
           ' | '.join(f'{key} ms | ratio | GFLOP/s (% peak) | rel. error' for key in keys) +
           ' |')
    yield '|---' * (4 + 4 * len(keys)) + '|'
    worst = dict.fromkeys(keys, 0.)
    worst_error = dict.fromkeys(keys, 0.)
    for row in backbone_vs_timm(names, sizes, batches, repeats, variants, calibration):
        cells = [row['name'], row['input'], f'{row["macs"] / 1e9:.2f}', f'{row["timm_ms"]:.1f}']
        for key, (_, precision) in zip(keys, variants):
            variant = row['variants'][key]
            worst[key] = max(worst[key], variant['ratio'])
            worst_error[key] = max(worst_error[key], variant['error'])
            rate = achieved_gflops(row['macs'], variant['ms'])
            peak = peak_for(peaks, precision, key.split('/')[0])
            cells += [f'{variant["ms"]:.1f}', f'{variant["ratio"]:.3f}',
                      rate_cell(rate, peak), f'{variant["error"]:.1e}']
        yield '| ' + ' | '.join(cells) + ' |'
    for key in keys:
        yield (f'worst ratio {key} / timm eager fp32: {worst[key]:.3f}; largest relative '
               f'error {worst_error[key]:.1e}')
