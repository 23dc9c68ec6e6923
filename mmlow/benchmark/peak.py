"""How close to the machine a latency is: the achieved GFLOP/s of a forward beside the
machine's measured matmul peak on the same threads (fp32 and bf16)."""
import time
from typing import Dict

import torch

PEAK_DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16}


@torch.inference_mode()
def matmul_peak_gflops(precision: str = 'fp32', size: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of the best of ``repeats`` square ``size`` matmuls on this process's threads
    (2 * size**3 FLOPs each): what dense GEMM, the best case of a network, reaches here."""
    dtype = PEAK_DTYPES[precision]
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    out = torch.empty(size, size, dtype=dtype)
    torch.mm(a, b, out=out)  # warm-up: thread pool, kernel selection
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


def machine_peaks(size: int = 2048) -> Dict[str, float]:
    return {precision: matmul_peak_gflops(precision, size) for precision in PEAK_DTYPES}


def achieved_gflops(macs: int, ms: float) -> float:
    """FLOP rate of a forward of ``macs`` multiply-accumulates (2 FLOPs each) taking ``ms``."""
    return 2 * macs / (ms * 1e-3) / 1e9
