"""Stop before a step that cannot fit in memory, instead of swapping for minutes and being
killed by the kernel (a RetinaNet-LowFormer-B1 training step at 4000x4000 needs over 40 GiB)."""
import torch
from mmengine.hooks import Hook

from mmlow.analysis.memory import (check_forward_fits, check_training_step_fits,
                                   optimizer_state_factor)
from mmlow.registry import HOOKS


@HOOKS.register_module()
class MemoryGuardHook(Hook):
    """Before each iteration whose batch is larger than any checked so far, bound its memory
    from below on the meta device (mmlow.analysis.memory) and raise a MemoryLimitError, naming
    input size, need and what is free, when the bound exceeds what is free: a training step
    counts parameters, optimizer state and the activations kept for the backward pass, a
    validation or test step the network forward's largest operation. Batches that are not
    images (tracking pairs) are not checked."""
    priority = 'VERY_HIGH'

    def __init__(self):
        self.largest_checked = dict(train=0, eval=0)

    def _check(self, runner, data_batch, phase: str) -> None:
        model = getattr(runner.model, 'module', runner.model)
        inputs = data_batch.get('inputs') if isinstance(data_batch, dict) else None
        if not isinstance(inputs, (list, tuple, torch.Tensor)) or len(inputs) == 0 or \
                not all(torch.is_tensor(image) and image.dim() == 3 for image in inputs):
            return
        height = max(image.shape[-2] for image in inputs)
        width = max(image.shape[-1] for image in inputs)
        size = len(inputs) * height * width
        if size <= self.largest_checked[phase]:
            return
        shape = (len(inputs), inputs[0].shape[0], height, width)
        device = next(model.parameters()).device
        if phase == 'train':
            optimizer = getattr(runner.optim_wrapper, 'optimizer', None)
            states = optimizer_state_factor(optimizer) if optimizer is not None else 0
            check_training_step_fits(model, shape, states, device)
        else:
            check_forward_fits(model, shape, device)
        self.largest_checked[phase] = size

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._check(runner, data_batch, 'train')

    def before_val_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._check(runner, data_batch, 'eval')

    def before_test_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._check(runner, data_batch, 'eval')
