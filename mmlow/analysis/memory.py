"""How much memory a forward or a training step needs, found without running it: the model runs
on the meta device (shapes only, no data) while every operation's inputs and outputs, or every
tensor autograd keeps, are measured."""
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


def network_forward(module: nn.Module, inputs: torch.Tensor):
    """The network alone: an mmengine model's ``mode='tensor'`` forward (backbone, neck, head;
    no pre- or post-processing), or a bare module's forward."""
    if hasattr(module, 'data_preprocessor'):
        return module(inputs, mode='tensor')
    return module(inputs)


def _run_on_meta(meta: nn.Module, input_shape: Sequence[int]) -> None:
    """Run as far as the meta device allows: an operation that needs values (NMS on proposals,
    a two-stage head's sampling) ends the run, and what ran until then still bounds the
    need from below."""
    try:
        network_forward(meta, torch.empty(tuple(input_shape), device='meta'))
    except Exception:  # noqa: BLE001  the operations before it were measured
        pass


def forward_memory_lower_bound(module: nn.Module, input_shape: Sequence[int]):
    """(bytes, operation): the largest operation of ``module``'s network forward on an input of
    ``input_shape``, measured on the meta device."""
    meta = copy.deepcopy(module).to('meta').eval()
    tracker = _LargestStep()
    with torch.no_grad(), tracker:
        _run_on_meta(meta, input_shape)
    return tracker.peak, tracker.op


def optimizer_state_factor(optimizer) -> int:
    """Tensors of a parameter's size the optimizer keeps per parameter (0 when unknown: the
    bound stays a lower one)."""
    name = type(optimizer).__name__
    if name in ('Adam', 'AdamW', 'NAdam', 'RAdam', 'Adamax', 'Lamb'):
        return 2
    if name in ('SGD', 'RMSprop', 'Adagrad') and optimizer.param_groups:
        group = optimizer.param_groups[0]
        return 1 if name != 'SGD' or group.get('momentum', 0) else 0
    return 0


def training_memory_lower_bound(model: nn.Module, input_shape: Sequence[int],
                                optimizer_states: int = 0) -> int:
    """Bytes held when a training forward ends: the parameters, the optimizer's state
    (``optimizer_states`` tensors of each parameter's size) and every tensor autograd keeps
    for the backward pass, each storage counted once, measured on the meta device. The
    backward frees those only as it makes the gradients, so a training step needs at least
    this much."""
    meta = copy.deepcopy(model).to('meta').train()
    held = {}

    def hold(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        held[storage._cdata] = storage.nbytes()
        return tensor

    parameters = 0
    for parameter in meta.parameters():
        hold(parameter)
        parameters += parameter.numel() * parameter.element_size()
    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(hold, lambda t: t):
        _run_on_meta(meta, input_shape)
    return sum(held.values()) + optimizer_states * parameters


def available_memory(device: torch.device) -> int:
    if device.type == 'cuda':
        return torch.cuda.mem_get_info(device)[0]
    if os.path.isfile('/proc/meminfo'):
        with open('/proc/meminfo') as f:  # MemAvailable counts reclaimable caches too
            for line in f:
                if line.startswith('MemAvailable:'):
                    return int(line.split()[1]) * 1024
    return os.sysconf('SC_AVPHYS_PAGES') * os.sysconf('SC_PAGE_SIZE')


def _refuse(what: str, needed: int, counted: str, device: torch.device) -> None:
    available = available_memory(device)
    if needed > available:
        gib = 1024**3
        raise MemoryLimitError(
            f'{what} needs at least {needed / gib:.1f} GiB ({counted}), but {device.type} has '
            f'{available / gib:.1f} GiB available. Use a smaller input (the Resize scale of '
            'the pipeline, or --shape) or batch size, or a device with more memory')


def check_forward_fits(module: nn.Module, input_shape: Sequence[int],
                       device: torch.device = torch.device('cpu')) -> int:
    """Raise MemoryLimitError when a forward of ``input_shape`` cannot fit; returns the bound."""
    needed, op = forward_memory_lower_bound(module, input_shape)
    _refuse(f'{type(module).__name__} on an input of {tuple(input_shape)}', needed,
            f'its largest step, {op}, alone', device)
    return needed


def check_training_step_fits(model: nn.Module, input_shape: Sequence[int],
                             optimizer_states: int = 0,
                             device: torch.device = torch.device('cpu')) -> int:
    """Raise MemoryLimitError when a training step on ``input_shape`` cannot fit; returns the
    bound."""
    needed = training_memory_lower_bound(model, input_shape, optimizer_states)
    _refuse(f'a training step of {type(model).__name__} on an input of {tuple(input_shape)}',
            needed, 'parameters, optimizer state and the activations kept for the backward '
            'pass', device)
    return needed
