"""Tracker speed on a backend: the template branch once, then the per-frame search branch
(mmlow.deploy.tracking builds both, BN folded and checked against eager before timing)."""
import statistics
import time
from typing import Optional

import torch.nn as nn

from mmlow.deploy.tracking import TrackerCalibration, build_tracker_steps
from .record import latency_stats


def benchmark_tracker(model: nn.Module, backend: str = 'cpu', iters: int = 50,
                      warmup: int = 10, precision: Optional[str] = None, seed: int = 0,
                      calibration: Optional[TrackerCalibration] = None) -> dict:
    """Median / p90 per-frame latency and FPS of the search step, and the template step's
    median time, on ``backend`` (any of mmlow.deploy.BACKENDS; int8 quantized on
    ``calibration``)."""
    template_step, template, search_step, search = build_tracker_steps(
        model, backend, precision, calibration, seed)

    def timed(step, inputs, count):
        times = []
        for index in range(warmup + count):
            start = time.perf_counter()
            step(inputs)
            step.synchronize()
            if index >= warmup:
                times.append((time.perf_counter() - start) * 1e3)
        return times

    search_ms = timed(search_step, search, iters)
    template_ms = timed(template_step, template, max(iters // 5, 3))
    stats = latency_stats(search_ms, [1] * len(search_ms))
    return dict(backend=backend, precision=search_step.precision,
                template_ms=statistics.median(template_ms), search_median_ms=stats['median_ms'],
                search_p90_ms=stats['p90_ms'], fps=1e3 / stats['median_ms'],
                max_error=max(template_step.max_error, search_step.max_error),
                template_size=model.template_size, search_size=model.search_size)
