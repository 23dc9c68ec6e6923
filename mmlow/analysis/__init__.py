from .complexity import count_macs, count_params
from .memory import (MemoryLimitError, check_forward_fits, check_training_step_fits,
                     forward_memory_lower_bound, optimizer_state_factor,
                     training_memory_lower_bound)

__all__ = ['MemoryLimitError', 'check_forward_fits', 'check_training_step_fits', 'count_macs',
           'count_params', 'forward_memory_lower_bound', 'optimizer_state_factor',
           'training_memory_lower_bound']
