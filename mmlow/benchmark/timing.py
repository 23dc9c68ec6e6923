"""Interleaved timing of two callables in one process (the machine's noise hits both alike), and
the timing wrapper that the stage timer and the latency hook put around a model's methods."""
import statistics
import time
from typing import Callable, Dict

import torch


def device_sync(device: str) -> Callable[[], None]:
    """What waits for ``device``'s queued work before a clock is read: CUDA runs
    asynchronously, the CPU does not."""
    return torch.cuda.synchronize if device == 'cuda' else (lambda: None)


def timed_call(fn: Callable, synchronize: Callable[[], None],
               report: Callable[..., None]) -> Callable:
    """``fn``, reporting each call's wall time in ms, the device's queued work included, with
    the call's arguments: ``report(ms, *args, **kwargs)``."""
    def call(*args, **kwargs):
        synchronize()
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        synchronize()
        report((time.perf_counter() - start) * 1e3, *args, **kwargs)
        return out
    return call


def time_interleaved(candidates: Dict[str, Callable[[], object]], repeats: int = 30,
                     warmup: int = 5, sync: Callable[[], None] = lambda: None) -> Dict[str, dict]:
    """Run each candidate once per round, alternating the order every round.

    Returns per candidate the median, p90 and all per-call times in milliseconds.
    """
    names = list(candidates)
    for _ in range(warmup):
        for name in names:
            candidates[name]()
    sync()
    times = {name: [] for name in names}
    for round_index in range(repeats):
        order = names if round_index % 2 == 0 else names[::-1]
        for name in order:
            start = time.perf_counter()
            candidates[name]()
            sync()
            times[name].append((time.perf_counter() - start) * 1e3)
    return {
        name: dict(median_ms=statistics.median(values),
                   p90_ms=sorted(values)[max(0, int(round(0.9 * len(values))) - 1)],
                   times_ms=values)
        for name, values in times.items()
    }
