from .final_validation_hook import FinalValidationHook
from .latency_hook import LatencyHook
from .memory_guard_hook import MemoryGuardHook

__all__ = ['FinalValidationHook', 'LatencyHook', 'MemoryGuardHook']
