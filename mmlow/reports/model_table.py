"""Params and MACs of every backbone variant's classifier beside the papers' figures
(tools/analysis/model_table.py).

Counts are of the classification model (backbone + its ImageNet head), as the papers count.
MACs include the attention matrix products (scaled_dot_product_attention), which timm's
published LowFormer figures leave out; hence small differences in that column.
"""
from typing import Iterator, Sequence, Tuple

from mmlow.models.classifiers import build_classifier
from mmlow.analysis.complexity import count_macs, count_params

# Figures published by the papers (LowFormer arXiv 2409.03460 / 2603.26551, EfficientViT
# arXiv 2305.07027, EfficientFormer arXiv 2206.01191 / 2212.08059) and their repositories.
PAPER = {
    'lowformer': {
        'b0': dict(params_m=14.10, gmacs=0.944, top1=78.4),
        'b1': dict(params_m=17.94, gmacs=1.411, top1=79.9),
        'b15': dict(params_m=33.98, gmacs=2.574, top1=81.2),
        'b2': dict(params_m=44.99, gmacs=3.689, top1=None),
        'b3': dict(params_m=57.09, gmacs=6.099, top1=83.6),
        'e1': dict(params_m=18.90, gmacs=1.348, top1=78.8),
        'e2': dict(params_m=22.75, gmacs=3.789, top1=81.6),
        'e3': dict(params_m=41.32, gmacs=4.866, top1=83.0),
    },
    'efficientvit': {
        'm0': dict(params_m=2.3, top1=63.2),
        'm1': dict(params_m=3.0, top1=68.4),
        'm2': dict(params_m=4.2, top1=70.8),
        'm3': dict(params_m=6.9, top1=73.4),
        'm4': dict(params_m=8.8, top1=74.3),
        'm5': dict(params_m=12.4, top1=77.1),
    },
    'efficientformer': {
        'l1': dict(top1=79.2, iphone12_ms=1.6),
        'l3': dict(top1=82.4, iphone12_ms=3.0),
        'l7': dict(top1=83.3, iphone12_ms=7.0),
    },
    'efficientformerv2': {
        's0': dict(iphone12_ms=0.9),
        's1': dict(iphone12_ms=1.1),
        's2': dict(iphone12_ms=1.6),
        'l': dict(iphone12_ms=2.7),
    },
}


def _fmt(value, digits):
    return '-' if value is None else f'{value:.{digits}f}'


def model_table(families: Sequence[str] = tuple(sorted(PAPER)),
                size: Tuple[int, int] = (224, 224)) -> Iterator[str]:
    """Markdown lines: header, then one row per variant (built and counted as it goes)."""
    size = tuple(size)
    header = ['model', 'params (M)', 'GMACs@224']
    if size != (224, 224):
        header.append(f'GMACs@{size[0]}x{size[1]}')
    header += ['paper params (M)', 'paper GMACs@224', 'paper top-1', 'paper iPhone 12 (ms)']
    yield '| ' + ' | '.join(header) + ' |'
    yield '|' + '---|' * len(header)
    for family in families:
        for arch, paper in PAPER[family].items():
            model = build_classifier(f'{family}_{arch}')
            cells = [f'{family}_{arch}', _fmt(count_params(model) / 1e6, 2),
                     _fmt(count_macs(model, (1, 3, 224, 224)) / 1e9, 3)]
            if size != (224, 224):
                cells.append(_fmt(count_macs(model, (1, 3, *size)) / 1e9, 2))
            cells += [_fmt(paper.get('params_m'), 2), _fmt(paper.get('gmacs'), 3),
                      _fmt(paper.get('top1'), 1), _fmt(paper.get('iphone12_ms'), 1)]
            yield '| ' + ' | '.join(cells) + ' |'
