from .hooks import FinalValidationHook, IterationSeedHook, LatencyHook, MemoryGuardHook
from .optim_wrappers import CPUBf16OptimWrapper

__all__ = [
    'CPUBf16OptimWrapper', 'FinalValidationHook', 'IterationSeedHook', 'LatencyHook',
    'MemoryGuardHook'
]
