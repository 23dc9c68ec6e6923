"""Stop before a forward that cannot fit in memory, instead of swapping for minutes and being
killed by the kernel (a 4000x4000 image through EfficientFormer-L1 needs over 20 GiB)."""
import torch
from mmengine.hooks import Hook

from mmlow.analysis.memory import check_forward_fits
from mmlow.registry import HOOKS


@HOOKS.register_module()
class MemoryGuardHook(Hook):
    """Before each iteration whose batch is larger than any checked so far, bound the memory
    of the backbone's forward from below (mmlow.analysis.memory, on the meta device) and raise
    a MemoryLimitError, naming input size and need, when that alone exceeds what is free.
    Models without a ``backbone``, and batches that are not images (tracking pairs), are not
    checked."""
    priority = 'VERY_HIGH'

    def __init__(self):
        self.largest_checked = 0

    def _check(self, runner, data_batch) -> None:
        model = getattr(runner.model, 'module', runner.model)
        backbone = getattr(model, 'backbone', None)
        inputs = data_batch.get('inputs') if isinstance(data_batch, dict) else None
        if backbone is None or not isinstance(inputs, (list, tuple, torch.Tensor)) or \
                len(inputs) == 0 or not all(torch.is_tensor(image) for image in inputs):
            return
        height = max(image.shape[-2] for image in inputs)
        width = max(image.shape[-1] for image in inputs)
        size = len(inputs) * height * width
        if size <= self.largest_checked:
            return
        device = next(backbone.parameters()).device
        check_forward_fits(backbone, (len(inputs), 3, height, width), device)
        self.largest_checked = size

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._check(runner, data_batch)

    def before_val_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._check(runner, data_batch)

    def before_test_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._check(runner, data_batch)
