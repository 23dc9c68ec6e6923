"""One latency record: the same keys from the LatencyHook and from tools/benchmark.py, so
records of training runs and of stand-alone benchmarks can be put in one table."""
import os
import platform
from collections import Counter
from typing import Optional, Sequence

import torch

# Latencies are per image (an iteration's time over the images in it), FPS is images per second
# over all timed iterations; input_shape is the preprocessed batch tensor's (N, C, H, W).
# forward_ms: median per image of the backend's tensor forward alone (the rest of median_ms is
# pre- and post-processing; None where the model runs whole). Single-stage detectors:
# nms_candidates and boxes_out are the mean (score, class) candidates per image that reached
# NMS and boxes that came out (None for other models).
RECORD_KEYS = ('model', 'config', 'phase', 'mode', 'backend', 'device', 'precision', 'deploy',
               'batch_size', 'input_shape', 'num_iters', 'warmup', 'num_images', 'median_ms',
               'p90_ms', 'mean_ms', 'fps', 'forward_ms', 'nms_candidates', 'boxes_out',
               'stages_ms', 'gmacs', 'gflops', 'peak_gflops', 'torch', 'threads', 'hardware')


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (as mmlow.benchmark.time_interleaved reports p90)."""
    ordered = sorted(values)
    return ordered[max(0, int(round(fraction * len(ordered))) - 1)]


def latency_stats(iteration_ms: Sequence[float], images: Sequence[int]) -> dict:
    """Per-image median, p90 and mean latency and FPS of timed iterations."""
    if not iteration_ms:
        raise ValueError('no timed iterations: run more iterations than the warm-up')
    per_image = [ms / n for ms, n in zip(iteration_ms, images)]
    total_images = sum(images)
    return dict(num_iters=len(iteration_ms), num_images=total_images,
                median_ms=percentile(per_image, 0.5), p90_ms=percentile(per_image, 0.9),
                mean_ms=sum(iteration_ms) / total_images,
                fps=total_images * 1e3 / sum(iteration_ms))


def most_common(values: Sequence):
    return Counter(values).most_common(1)[0][0] if values else None


def _cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware_string(device: str) -> str:
    """What ran it: the GPU for CUDA runs, the CPU model and its core count otherwise."""
    if device == 'cuda':
        return f'{torch.cuda.get_device_name()} (CUDA {torch.version.cuda})'
    return f'{_cpu_name()}, {os.cpu_count()} cores'


def make_record(*, model: str, config: Optional[str], phase: str, mode: str, backend: str,
                device: str, precision: str, deploy: bool, batch_size: int,
                input_shape: Optional[Sequence[int]], warmup: int, stats: dict,
                counts: Optional[dict] = None) -> dict:
    """``counts``: mmlow.deploy.detection.mean_counts of the timed iterations,
    ``forward_ms``, ``stages_ms`` (mmlow.benchmark.stages.stage_summary) and how close the
    network forward came to the hardware: ``gmacs`` per image, the ``gflops`` it achieved and
    the ``peak_gflops`` of its precision (mmlow.benchmark.peak)."""
    counts = dict(dict(forward_ms=None, nms_candidates=None, boxes_out=None, stages_ms=None,
                       gmacs=None, gflops=None, peak_gflops=None),
                  **(counts or {}))
    record = dict(model=model, config=config, phase=phase, mode=mode, backend=backend,
                  device=device, precision=precision, deploy=deploy, batch_size=batch_size,
                  input_shape=list(input_shape) if input_shape else None, warmup=warmup,
                  torch=torch.__version__, threads=torch.get_num_threads(),
                  hardware=hardware_string(device), **stats, **counts)
    return {key: record[key] for key in RECORD_KEYS}


def model_name(model: torch.nn.Module) -> str:
    """e.g. 'RetinaNet/LowFormer' (the model's and its backbone's class names)."""
    backbone = getattr(model, 'backbone', None)
    name = type(model).__name__
    return f'{name}/{type(backbone).__name__}' if backbone is not None else name
