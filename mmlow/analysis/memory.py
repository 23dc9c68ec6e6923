"""How much memory a forward needs, found without running it: the module runs on the meta
device (shapes only, no data) while every operation's inputs and outputs are measured."""
import copy
import os
from typing import Sequence

import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from mmlow.errors import UserError


class MemoryLimitError(UserError, MemoryError):
    """A forward that cannot fit in the memory this machine has."""


def _bytes(tree) -> int:
    return sum(t.numel() * t.element_size() for t in tree_flatten(tree)[0]
               if isinstance(t, torch.Tensor))


class _LargestStep(TorchDispatchMode):
    """Eager execution holds an operation's inputs and output at once: their sum, at the
    largest operation, is a lower bound of the forward's peak memory."""

    def __init__(self):
        super().__init__()
        self.peak, self.op = 0, None

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        step = _bytes((args, kwargs)) + _bytes(out)
        if step > self.peak:
            self.peak, self.op = step, str(func.overloadpacket.__name__)
        return out


def forward_memory_lower_bound(module: nn.Module, input_shape: Sequence[int]):
    """(bytes, operation): the largest operation of ``module(torch.empty(input_shape))``."""
    meta = copy.deepcopy(module).to('meta').eval()
    tracker = _LargestStep()
    with torch.no_grad(), tracker:
        meta(torch.empty(tuple(input_shape), device='meta'))
    return tracker.peak, tracker.op


def available_memory(device: torch.device) -> int:
    if device.type == 'cuda':
        return torch.cuda.mem_get_info(device)[0]
    if os.path.isfile('/proc/meminfo'):
        with open('/proc/meminfo') as f:  # MemAvailable counts reclaimable caches too
            for line in f:
                if line.startswith('MemAvailable:'):
                    return int(line.split()[1]) * 1024
    return os.sysconf('SC_AVPHYS_PAGES') * os.sysconf('SC_PAGE_SIZE')


def check_forward_fits(module: nn.Module, input_shape: Sequence[int],
                       device: torch.device = torch.device('cpu')) -> int:
    """Raise MemoryLimitError when a forward of ``input_shape`` cannot fit; returns the bound."""
    needed, op = forward_memory_lower_bound(module, input_shape)
    available = available_memory(device)
    if needed > available:
        gib = 1024**3
        raise MemoryLimitError(
            f'{type(module).__name__} on an input of {tuple(input_shape)} needs at least '
            f'{needed / gib:.1f} GiB (its largest step, {op}, alone), but {device.type} has '
            f'{available / gib:.1f} GiB available. Use a smaller input (the Resize scale of '
            'the pipeline) or batch size, or a device with more memory')
    return needed
