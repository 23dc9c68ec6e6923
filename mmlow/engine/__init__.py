from .hooks import (AtomicCheckpointHook, FinalValidationHook, IterationSeedHook, LatencyHook,
                    MemoryGuardHook)
from .optim_wrappers import CPUBf16OptimWrapper
from .runner import MMLowRunner

__all__ = [
    'AtomicCheckpointHook', 'CPUBf16OptimWrapper', 'FinalValidationHook', 'IterationSeedHook',
    'LatencyHook', 'MMLowRunner', 'MemoryGuardHook'
]
