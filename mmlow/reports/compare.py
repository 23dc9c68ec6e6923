"""The "beyond MACs" comparison of backbone swaps of one pipeline: a Markdown table and a
figure (MACs against measured latency, with the rank correlation between them, and FPS per
backend)."""
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use('Agg')  # files only; no display on servers

import matplotlib.pyplot as plt  # noqa: E402


def _ranks(values: Sequence[float]) -> List[float]:
    """1-based ranks, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> Optional[float]:
    """Spearman's rank correlation; None for fewer than three points or a constant series."""
    if len(x) != len(y):
        raise ValueError('spearman needs two series of one length')
    if len(x) < 3:
        return None
    rank_x, rank_y = _ranks(x), _ranks(y)
    mean = (len(x) + 1) / 2
    covariance = sum((a - mean) * (b - mean) for a, b in zip(rank_x, rank_y))
    spread_x = sum((a - mean) ** 2 for a in rank_x) ** 0.5
    spread_y = sum((b - mean) ** 2 for b in rank_y) ** 0.5
    if spread_x == 0 or spread_y == 0:
        return None
    return covariance / (spread_x * spread_y)


def _format(value, digits: int) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def compare_table(rows: List[dict], backends: Sequence[str]) -> str:
    """Markdown table. Each row: name, metrics (name -> value or None; or a single
    ``accuracy``), params, macs, backbone_macs, backbone_ms, fps (backend -> FPS); latencies of
    the first backend's backbone; detectors add nms_candidates and boxes_out per image."""
    metric_names = list(dict.fromkeys(
        name for row in rows for name in row.get('metrics', {'accuracy': None})))
    header = (['model'] + metric_names + ['params (M)', 'GMACs', 'backbone GMACs',
                                          f'backbone ms ({backends[0]})'] +
              [f'FPS {backend}' for backend in backends])
    counted = any(row.get('nms_candidates') is not None for row in rows)
    if counted:
        header += ['NMS in/img', 'boxes/img']
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for row in rows:
        metrics = row.get('metrics', {'accuracy': row.get('accuracy')})
        cells = ([row['name']] + [_format(metrics.get(name), 3) for name in metric_names] +
                 [f'{row["params"] / 1e6:.2f}', f'{row["macs"] / 1e9:.2f}',
                  f'{row["backbone_macs"] / 1e9:.2f}', f'{row["backbone_ms"]:.2f}'] +
                 [f'{row["fps"][d]:.2f}' for d in backends])
        if counted:
            cells += [_format(row.get('nms_candidates'), 0), _format(row.get('boxes_out'), 0)]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def correlations(rows: List[dict], backends: Sequence[str]) -> Dict[str, Optional[float]]:
    """Per backend: Spearman's rho between MACs and end-to-end latency (1/FPS)."""
    macs = [row['macs'] for row in rows]
    return {backend: spearman(macs, [1e3 / row['fps'][backend] for row in rows])
            for backend in backends}


def compare_plot(rows: List[dict], backends: Sequence[str], path_stem: str,
                 title: str = '') -> List[str]:
    """Write ``path_stem``.png and .svg; return their paths."""
    rho = correlations(rows, backends)
    panels = 3 if any(row['accuracy'] is not None for row in rows) else 2
    figure, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.5))
    scatter = axes[0]
    for backend in backends:
        latencies = [1e3 / row['fps'][backend] for row in rows]
        label = (backend if rho[backend] is None
                 else f'{backend} (Spearman rho {rho[backend]:.2f})')
        scatter.scatter([row['macs'] / 1e9 for row in rows], latencies, label=label)
        for row, latency in zip(rows, latencies):
            scatter.annotate(row['name'], (row['macs'] / 1e9, latency), fontsize=7,
                             xytext=(3, 3), textcoords='offset points')
    scatter.set(xlabel='GMACs (whole model)', ylabel='end-to-end latency (ms / image)',
                title='Beyond MACs: MACs vs measured latency')
    scatter.legend(fontsize=8)

    bars = axes[1]
    width = 0.8 / len(backends)
    for index, backend in enumerate(backends):
        bars.bar([i + index * width for i in range(len(rows))],
                 [row['fps'][backend] for row in rows], width, label=backend)
    bars.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))])
    bars.set_xticklabels([row['name'] for row in rows], rotation=20, ha='right', fontsize=8)
    bars.set(ylabel='end-to-end FPS', title='Throughput per backend')
    bars.legend(fontsize=8)

    if panels == 3:
        trade_off = axes[2]
        measured = [row for row in rows if row['accuracy'] is not None]
        for backend in backends:
            trade_off.scatter([row['fps'][backend] for row in measured],
                              [row['accuracy'] for row in measured], label=backend)
        for row in measured:
            trade_off.annotate(row['name'], (row['fps'][backends[0]], row['accuracy']),
                               fontsize=7, xytext=(3, 3), textcoords='offset points')
        metric = next(iter(measured[0].get('metrics', {'accuracy': None})))
        trade_off.set(xlabel='end-to-end FPS', ylabel=metric, title='Accuracy vs speed')
        trade_off.legend(fontsize=8)
    if title:
        figure.suptitle(title, fontsize=9)
    return save_figure(figure, path_stem)


def save_figure(figure, path_stem: str) -> List[str]:
    """``path_stem``.png and .svg of a finished figure (then closed); their paths."""
    figure.tight_layout()
    paths = [f'{path_stem}.png', f'{path_stem}.svg']
    for path in paths:
        figure.savefig(path, dpi=150)
    plt.close(figure)
    return paths
