"""How close to the machine a latency is: the achieved GFLOP/s of a forward beside the
machine's measured matmul peak on the same threads (CPU: fp32 and bf16; CUDA: fp32 and fp16)."""
import time
from typing import Dict

import torch

from .timing import device_sync

PEAK_DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16, 'fp16': torch.float16}
PEAK_PRECISIONS = {'cpu': ('fp32', 'bf16'), 'cuda': ('fp32', 'fp16')}


@torch.inference_mode()
def matmul_peak_gflops(precision: str = 'fp32', size: int = 2048, repeats: int = 5,
                       device: str = 'cpu') -> float:
    """GFLOP/s of the best of ``repeats`` square ``size`` matmuls on this process's threads
    (or its GPU; 2 * size**3 FLOPs each): what dense GEMM, the best case of a network, reaches
    here."""
    dtype = PEAK_DTYPES[precision]
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    out = torch.empty(size, size, dtype=dtype, device=device)
    sync = device_sync(device)
    torch.mm(a, b, out=out)  # warm-up: thread pool, kernel selection
    best = float('inf')
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        sync()
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


def machine_peaks(size: int = 2048, device: str = 'cpu') -> Dict[str, float]:
    """The matmul peak of each precision that ``device`` ('cpu' or 'cuda') runs fast."""
    return {precision: matmul_peak_gflops(precision, size, device=device)
            for precision in PEAK_PRECISIONS[device]}


def peak_for(peaks: Dict[str, float], precision: str) -> float:
    """The peak that bounds a run in ``precision`` (TF32 and unlisted ones: the fp32 peak)."""
    return peaks.get(precision, peaks['fp32'])


def achieved_gflops(macs: int, ms: float) -> float:
    """FLOP rate of a forward of ``macs`` multiply-accumulates (2 FLOPs each) taking ``ms``."""
    return 2 * macs / (ms * 1e-3) / 1e9


def rate_cell(gflops: float, peak: float) -> str:
    """'GFLOP/s (% of peak)', as the benchmark tables print it."""
    return f'{gflops:.0f} ({100 * gflops / peak:.0f} %)'
