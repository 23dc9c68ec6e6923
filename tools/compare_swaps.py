"""Train and evaluate backbone swaps of one pipeline, then compare them in one table.

    python tools/compare_swaps.py CONFIG [CONFIG ...] [--work-dir DIR] [--devices cpu ...]
        [--shape H W] [--iters N] [--warmup W]

Each config trains in its own process with tools/train.py under DIR/<config name> (an
interrupted run resumes; a finished one is not repeated) and is evaluated with tools/test.py;
tools/compare_backbones.py then adds params, MACs, backbone latency and end-to-end FPS per
device. Writes DIR/results.json (metrics and training minutes per config) and
DIR/compare.{md,json,png,svg}. On the embedded shapes data the whole comparison runs offline
on a CPU, e.g.

    python tools/compare_swaps.py configs/detection/mask-rcnn_{lowformer_b1,efficientvit_m4,\
efficientformer_l1}_shapes.py --work-dir work_dirs/compare_mask-rcnn --shape 128 128
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

TOOLS = osp.dirname(osp.abspath(__file__))
if osp.dirname(TOOLS) not in sys.path:  # run as a script: make `tools.` importable
    sys.path.insert(0, osp.dirname(TOOLS))

from tools.compare_backbones import main as compare_main  # noqa: E402

# metrics worth a column, in this order, when the evaluation reports them
METRICS = ('coco/bbox_mAP', 'coco/segm_mAP', 'mIoU', 'aAcc', 'accuracy/top1')
TRAIN_MINUTES = 'train min'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--work-dir', default='work_dirs/compare_swaps')
    parser.add_argument('--devices', nargs='+', default=['cpu'])
    parser.add_argument('--shape', nargs=2, type=int, metavar=('H', 'W'),
                        help='input size of the latency measurement and MACs')
    parser.add_argument('--iters', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=5)
    return parser.parse_args(argv)


def training_minutes(work_dir: str):
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


def _run(command, what: str) -> None:
    print(f'[compare_swaps] {what}: {" ".join(command)}', flush=True)
    if subprocess.run(command).returncode != 0:
        raise RuntimeError(f'{what} failed (command above); fix it and run again: finished '
                           'runs are kept and not repeated')


def train_and_test(config: str, work_dir: str) -> dict:
    python = sys.executable
    _run([python, osp.join(TOOLS, 'train.py'), config, '--work-dir', work_dir, '--resume'],
         f'training {osp.basename(config)}')
    metrics_file = osp.join(work_dir, 'test_metrics.json')
    _run([python, osp.join(TOOLS, 'test.py'), config, work_dir, '--work-dir',
          osp.join(work_dir, 'test'), '--metrics-out', metrics_file],
         f'evaluating {osp.basename(config)}')
    with open(metrics_file) as f:
        metrics = json.load(f)
    metrics[TRAIN_MINUTES] = training_minutes(work_dir)
    return metrics


def main(argv=None):
    args = parse_args(argv)
    missing = [config for config in args.configs if not osp.isfile(config)]
    if missing:
        print(f'error: no such config: {", ".join(missing)}', file=sys.stderr)
        return 2
    results = {}
    started = time.time()
    try:
        for index, config in enumerate(args.configs, 1):
            name = osp.splitext(osp.basename(config))[0]
            print(f'[compare_swaps] {index}/{len(args.configs)} {name} '
                  f'({(time.time() - started) / 60:.1f} min so far)', flush=True)
            results[name] = train_and_test(config, osp.join(args.work_dir, name))
    except RuntimeError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    os.makedirs(args.work_dir, exist_ok=True)
    results_file = osp.join(args.work_dir, 'results.json')
    with open(results_file, 'w') as f:
        json.dump(results, f, indent=2)
    shown = [m for m in METRICS if any(m in r for r in results.values())] + [TRAIN_MINUTES]
    command = list(args.configs) + [
        '--devices', *args.devices, '--results', results_file, '--metric', *shown,
        '--iters', str(args.iters), '--warmup', str(args.warmup), '--out-dir', args.work_dir]
    if args.shape:
        command += ['--shape', *map(str, args.shape)]
    return compare_main(command)


if __name__ == '__main__':
    sys.exit(main())
