"""Tracker speed on a backend: the template branch once, then the per-frame search branch.

Both branches go through ``build_backend`` (BN folded, checked against eager before timing);
the per-frame step is the search branch with the target's cached template features held as a
constant, which is what a deployed tracker runs on every frame.
"""
import statistics
import time
from typing import Optional

import torch
import torch.nn as nn

from mmlow.models.tracking import SearchBranch, TemplateBranch
from .backends import build_backend
from .record import latency_stats


class CachedTemplateSearch(nn.Module):
    """The per-frame graph: search crop -> score probabilities, offsets, sizes, for one
    target whose template features are fixed."""

    def __init__(self, tracker: nn.Module, template_feat: torch.Tensor):
        super().__init__()
        self.search_branch = SearchBranch(tracker)
        self.register_buffer('template_feat', template_feat.detach().clone())

    def forward(self, search: torch.Tensor):
        return self.search_branch(search, self.template_feat)


def build_tracker_steps(model: nn.Module, backend: str, precision: Optional[str] = None,
                        seed: int = 0):
    """The template step and the per-frame search step (with the template's features cached)
    built on ``backend``, and random crops to run them on: (template_step, template,
    search_step, search)."""
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    template = torch.rand(1, 3, model.template_size, model.template_size,
                          generator=generator) * 255
    search = torch.rand(1, 3, model.search_size, model.search_size, generator=generator) * 255
    with torch.no_grad():
        template_feat = model.template_features(template)
    template_step = build_backend(backend, TemplateBranch(model).eval(), template, precision)
    search_step = build_backend(backend, CachedTemplateSearch(model, template_feat).eval(),
                                search, precision)
    return template_step, template, search_step, search


def benchmark_tracker(model: nn.Module, backend: str = 'cpu', iters: int = 50,
                      warmup: int = 10, precision: Optional[str] = None, seed: int = 0) -> dict:
    """Median / p90 per-frame latency and FPS of the search step, and the template step's
    median time, on ``backend`` (any of mmlow.benchmark.BACKENDS)."""
    template_step, template, search_step, search = build_tracker_steps(
        model, backend, precision, seed)

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
