from .hooks import FinalValidationHook, LatencyHook, MemoryGuardHook
from .optim_wrappers import CPUBf16OptimWrapper

__all__ = ['CPUBf16OptimWrapper', 'FinalValidationHook', 'LatencyHook', 'MemoryGuardHook']
