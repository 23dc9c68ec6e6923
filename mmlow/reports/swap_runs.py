"""Train, evaluate and compare backbone swaps of one pipeline (tools/compare_swaps.py)."""
import glob
import json
import os
import os.path as osp
import subprocess
import time
from typing import List, Optional, Sequence, Tuple, Union

from mmlow.reports.swaps import compare_backbones
from mmlow.runner.checkpoint import latest_checkpoint

# metrics worth a column, in this order, when the evaluation reports them
METRICS = ('coco/bbox_mAP', 'coco/segm_mAP', 'mIoU', 'aAcc', 'accuracy/top1',
           'retrieval/Recall@1', 'retrieval/MAP@R')
TRAIN_MINUTES = 'train min'


def training_minutes(work_dir: str) -> Optional[float]:
    """Minutes spent in training iterations, from the iteration times mmengine logged (all
    runs of this work dir, so a resumed run counts once); validation is not included."""
    times = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if 'loss' in entry and 'time' in entry:
                    times[entry['step']] = entry['time']
    if not times:
        return None
    total, previous = 0., 0
    for step in sorted(times):
        total += times[step] * (step - previous)
        previous = step
    return total / 60


def _run(command: List[str], what: str) -> None:
    print(f'[compare_swaps] {what}: {" ".join(command)}', flush=True)
    if subprocess.run(command).returncode != 0:
        raise RuntimeError(f'{what} failed (command above); fix it and run again: finished '
                           'runs are kept and not repeated')


def train_and_test(config: str, work_dir: str, train_command: List[str],
                   test_command: List[str]) -> dict:
    """Train ``config`` (resuming, so a finished run is not repeated), evaluate its last
    checkpoint unless that was evaluated already; returns the metrics and the training
    minutes."""
    _run(train_command + [config, '--work-dir', work_dir, '--resume'],
         f'training {osp.basename(config)}')
    metrics_file = osp.join(work_dir, 'test_metrics.json')
    checkpoint = latest_checkpoint(work_dir)
    if not (osp.isfile(metrics_file) and checkpoint and
            osp.getmtime(metrics_file) > osp.getmtime(checkpoint)):  # else: already evaluated
        _run(test_command + [config, work_dir, '--work-dir', osp.join(work_dir, 'test'),
                             '--metrics-out', metrics_file],
             f'evaluating {osp.basename(config)}')
    with open(metrics_file) as f:
        metrics = json.load(f)
    metrics[TRAIN_MINUTES] = training_minutes(work_dir)
    return metrics


def compare_swaps(configs: Sequence[str], work_dir: str, train_command: List[str],
                  test_command: List[str], backends: Sequence[str] = ('cpu', ),
                  shape: Optional[Tuple[int, int]] = None, iters: int = 30,
                  warmup: int = 5, candidates: Union[int, str, None] = None) -> str:
    """Each config trains and is evaluated in its own process (``train_command`` and
    ``test_command``: tools/train.py and tools/test.py) under ``work_dir``/<config name>;
    writes ``work_dir``/results.json and the :func:`compare_backbones` table and figure
    there (``candidates``: see mmlow.deploy.detection.set_candidates). Returns the table
    as text."""
    missing = [config for config in configs if not osp.isfile(config)]
    if missing:
        raise FileNotFoundError(f'no such config: {", ".join(missing)}')
    results = {}
    started = time.time()
    for index, config in enumerate(configs, 1):
        name = osp.splitext(osp.basename(config))[0]
        print(f'[compare_swaps] {index}/{len(configs)} {name} '
              f'({(time.time() - started) / 60:.1f} min so far)', flush=True)
        results[name] = train_and_test(config, osp.join(work_dir, name), train_command,
                                       test_command)
    os.makedirs(work_dir, exist_ok=True)
    results_file = osp.join(work_dir, 'results.json')
    with open(results_file, 'w') as f:
        json.dump(results, f, indent=2)
    shown = [m for m in METRICS if any(m in r for r in results.values())] + [TRAIN_MINUTES]
    return compare_backbones(configs, backends, results_file, shown, shape, iters=iters,
                             warmup=warmup, out_dir=work_dir, candidates=candidates)
