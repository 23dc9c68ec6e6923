from .checkpoint_hook import AtomicCheckpointHook
from .final_validation_hook import FinalValidationHook
from .iteration_seed_hook import IterationSeedHook
from .latency_hook import LatencyHook
from .memory_guard_hook import MemoryGuardHook

__all__ = [
    'AtomicCheckpointHook', 'FinalValidationHook', 'IterationSeedHook', 'LatencyHook',
    'MemoryGuardHook'
]
