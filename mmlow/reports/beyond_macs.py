"""The "beyond MACs" table of the bare backbones: for every variant of every family, GMACs,
parameters and measured latency on each backend and precision at each input size, with the
rank correlation between MACs and latency per column and a plot
(tools/analysis/beyond_macs.py).

Each backbone returns its last stage (as an ImageNet classifier's backbone does), deployed
(BN fused) and checked against eager on every backend; at one size the variants are timed one
after another, each backend interleaved with the others on the same input.
"""
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')  # files only; no display on servers

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from mmlow.analysis import count_macs, count_params  # noqa: E402
from mmlow.models.classifiers import BACKBONES, build_classifier  # noqa: E402
from mmlow.deploy.backends import build_backend  # noqa: E402
from mmlow.deploy.quantize import Calibration  # noqa: E402
from mmlow.reports.compare import save_figure, spearman  # noqa: E402
from mmlow.benchmark.timing import time_interleaved  # noqa: E402

ALL_BACKBONES = tuple(f'{family}_{arch}' for family, cls in BACKBONES.items()
                      for arch in cls.arch_zoo)
CPU_VARIANTS = (('cpu', 'fp32'), ('torchscript', 'fp32'), ('onnxruntime', 'fp32'),
                ('openvino', 'fp32'), ('openvino', 'bf16'))


def variant_name(variant: Tuple[str, str]) -> str:
    return '/'.join(variant)


@torch.inference_mode()
def measure_backbones(names: Sequence[str], sizes: Sequence[int],
                      variants: Sequence[Tuple[str, str]] = CPU_VARIANTS,
                      repeats: int = 10, warmup: int = 2,
                      calibration: Optional[Calibration] = None) -> Iterator[dict]:
    """One row per (backbone, size), batch 1: name, size, params, macs and the median ms per
    variant; int8 variants quantized on ``calibration``."""
    for name in names:
        backbone = build_classifier(name).backbone.eval()
        params = count_params(backbone)
        for size in sizes:
            # with calibration images, an image like them: int8 builds are checked on it
            x = (torch.from_numpy(calibration.inputs_for((1, 3, size, size))[0])
                 if calibration else torch.randn(1, 3, size, size))
            runs = {}
            for variant in variants:
                forward = build_backend(variant[0], backbone, x, variant[1],
                                        calibration=calibration)
                runs[variant_name(variant)] = lambda forward=forward: forward(x)
            timings = time_interleaved(runs, repeats=repeats, warmup=warmup)
            yield dict(name=name, size=size, params=params,
                       macs=count_macs(backbone, tuple(x.shape)),
                       ms={key: value['median_ms'] for key, value in timings.items()})


def rank_correlations(rows: Sequence[dict]) -> Dict[Tuple[int, str], float]:
    """Spearman's rho between MACs and latency per (size, variant)."""
    result = {}
    for size in sorted({row['size'] for row in rows}):
        at_size = [row for row in rows if row['size'] == size]
        for key in at_size[0]['ms']:
            result[(size, key)] = spearman([row['macs'] for row in at_size],
                                           [row['ms'][key] for row in at_size])
    return result


def beyond_macs_table(rows: Sequence[dict]) -> str:
    keys = list(rows[0]['ms'])
    lines = ['| model | input | params (M) | GMACs | ' + ' | '.join(f'{k} ms' for k in keys) +
             ' |', '|---' * (4 + len(keys)) + '|']
    for row in rows:
        lines.append(f'| {row["name"]} | {row["size"]} | {row["params"] / 1e6:.2f} | '
                     f'{row["macs"] / 1e9:.3f} | ' +
                     ' | '.join(f'{row["ms"][k]:.1f}' for k in keys) + ' |')
    rho = rank_correlations(rows)
    for size in sorted({row['size'] for row in rows}):
        cells = ', '.join(f'{key} {_rho(rho[(size, key)])}' for key in keys)
        lines.append(f'\nSpearman rho (MACs vs latency) at {size}: {cells}')
    return '\n'.join(lines)


def _rho(value) -> str:
    return '-' if value is None else f'{value:.2f}'


def beyond_macs_plot(rows: Sequence[dict], path_stem: str) -> List[str]:
    """MACs against latency, one panel per input size, one series per variant; writes
    ``path_stem``.png and .svg."""
    sizes = sorted({row['size'] for row in rows})
    rho = rank_correlations(rows)
    figure, axes = plt.subplots(1, len(sizes), figsize=(6 * len(sizes), 5), squeeze=False)
    for axis, size in zip(axes[0], sizes):
        at_size = [row for row in rows if row['size'] == size]
        for key in at_size[0]['ms']:
            axis.scatter([row['macs'] / 1e9 for row in at_size],
                         [row['ms'][key] for row in at_size],
                         label=f'{key} (rho {_rho(rho[(size, key)])})', s=14)
        for row in at_size:
            axis.annotate(row['name'], (row['macs'] / 1e9, row['ms'][next(iter(row['ms']))]),
                          fontsize=6, xytext=(2, 2), textcoords='offset points')
        axis.set(xlabel='GMACs', ylabel='latency (ms, batch 1)',
                 title=f'Beyond MACs: backbones at {size}x{size}')
        axis.legend(fontsize=7)
    return save_figure(figure, path_stem)
