"""How much slower the validation loop runs with the LatencyHook than without it.

    python tools/analysis/latency_hook_overhead.py CONFIG [--rounds 10] [--threads 1]
                                                   [--cfg-options key=value ...]

Builds the config's runner once (random weights unless load_from is set) and runs its whole
val loop (data loading, model, evaluator) alternately with and without the hook, in one
process; prints the median and fastest loop time of each and their ratios.
"""
import argparse
import statistics
import time

import torch
from mmengine.config import DictAction

import mmlow  # noqa: F401
from mmlow.runner import build_runner, load_config
from mmlow.engine import LatencyHook


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('--rounds', type=int, default=10)
    parser.add_argument('--threads', type=int)
    parser.add_argument('--work-dir', default='work_dirs/latency_hook_overhead')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config, args.cfg_options)
    cfg.work_dir = args.work_dir
    cfg.log_level = 'WARNING'
    runner = build_runner(cfg)
    runner.val()  # warm-up: dataset caches, first-call allocations
    hook = LatencyHook(warmup=0)
    seconds = {'with hook': [], 'without': []}
    for round_index in range(args.rounds):
        order = list(seconds) if round_index % 2 == 0 else list(seconds)[::-1]
        for name in order:
            if name == 'with hook':
                runner.register_hook(hook)
            start = time.perf_counter()
            runner.val()
            seconds[name].append(time.perf_counter() - start)
            if name == 'with hook':
                runner._hooks.remove(hook)  # mmengine has no public unregister
    median = {name: statistics.median(values) for name, values in seconds.items()}
    fastest = {name: min(values) for name, values in seconds.items()}
    print(f'val loop over {len(runner.val_dataloader)} iterations, {args.rounds} rounds each, '
          f'{torch.get_num_threads()} threads')
    for name in seconds:
        print(f'  {name}: median {median[name]:.3f} s, fastest {fastest[name]:.3f} s')
    print(f'ratio with/without: median {median["with hook"] / median["without"]:.4f}, '
          f'fastest {fastest["with hook"] / fastest["without"]:.4f}')


if __name__ == '__main__':
    main()
