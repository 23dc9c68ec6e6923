"""Mixed precision without a GPU."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUBf16OptimWrapper(OptimWrapper):
    """Runs the forward under CPU autocast in bfloat16 (what ``--amp`` means on a CPU).

    mmengine's AmpOptimWrapper needs a GPU for its float16 GradScaler. bfloat16 keeps float32's
    exponent range, so gradients do not underflow and no loss scaling is needed: the optimizer
    step stays the plain one, on float32 weights.
    """

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast('cpu', dtype=torch.bfloat16):
            yield
