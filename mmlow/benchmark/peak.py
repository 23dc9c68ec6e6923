"""How close to the machine a latency is: the achieved GFLOP/s of a forward beside the
machine's measured matmul peak on the same threads (CPU: fp32 and bf16; CUDA: fp32 and fp16;
int8: a quantized GEMM through the runtime that runs the int8 model)."""
import time
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn

from mmlow.deploy.backends import build_backend
from mmlow.deploy.quantize import Calibration

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


def machine_peaks(size: int = 2048, device: str = 'cpu',
                  int8_backends: Sequence[str] = ()) -> Dict[str, float]:
    """The matmul peak of each precision that ``device`` ('cpu' or 'cuda') runs fast, and the
    int8 GEMM peak (``'<backend>/int8'``) of each of ``int8_backends``."""
    peaks = {precision: matmul_peak_gflops(precision, size, device=device)
             for precision in PEAK_PRECISIONS[device]}
    for backend in dict.fromkeys(int8_backends):
        peaks[f'{backend}/int8'] = int8_matmul_peak_gops(backend, size)
    return peaks


def peaks_text(peaks: Dict[str, float]) -> str:
    """'84 GFLOP/s fp32, 208 GFLOP/s bf16, 277 GOP/s openvino/int8'."""
    return ', '.join(f'{rate:.0f} G{"OP" if key.endswith("int8") else "FLOP"}/s {key}'
                     for key, rate in peaks.items())


@torch.inference_mode()
def int8_matmul_peak_gops(backend: str, size: int = 2048, repeats: int = 5) -> float:
    """GOP/s of the best of ``repeats`` square ``size`` int8 GEMMs (a 1x1 convolution of
    ``size`` channels over ``size`` positions, quantized like a model, VNNI where the CPU has
    it) on ``backend`` ('onnxruntime' or 'openvino'): the int8 counterpart of
    matmul_peak_gflops through the same runtime as the int8 models."""
    gemm = nn.Conv2d(size, size, 1, bias=False).eval()
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, size, 1, size, generator=generator)
    # a peak needs no data: random matrices, and the one convolution quantized too
    calibration = Calibration((x, ), 'random matrices', keep_float=())
    forward = build_backend(backend, gemm, x, 'int8', calibration=calibration)
    forward(x)
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        forward(x)
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


def peak_for(peaks: Dict[str, float], precision: str, backend: Optional[str] = None) -> float:
    """The peak that bounds a run in ``precision`` (TF32 and unlisted ones: the fp32 peak);
    int8 runs: the ``backend/int8`` entry, the int8 GEMM of that runtime."""
    if precision == 'int8':
        return peaks[f'{backend}/int8']
    return peaks.get(precision, peaks['fp32'])


def achieved_gflops(macs: int, ms: float) -> float:
    """FLOP rate of a forward of ``macs`` multiply-accumulates (2 FLOPs each) taking ``ms``."""
    return 2 * macs / (ms * 1e-3) / 1e9


def rate_cell(gflops: float, peak: float) -> str:
    """'GFLOP/s (% of peak)', as the benchmark tables print it."""
    return f'{gflops:.0f} ({100 * gflops / peak:.0f} %)'
