"""Parameter and MAC counts (one multiply-accumulate = one MAC, as the papers count)."""
from typing import Dict, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer


def _sdpa_macs(inputs, outputs) -> int:
    # q @ k^T and attn @ v: 2 * (batch*heads) * Nq * Nk * head_dim
    q_shape = inputs[0].type().sizes()
    k_shape = inputs[1].type().sizes()
    batch_heads = 1
    for size in q_shape[:-2]:
        batch_heads *= size
    return 2 * batch_heads * q_shape[-2] * k_shape[-2] * q_shape[-1]


class _TensorForward(nn.Module):
    """mmengine models take ``mode=``; the analyzer calls ``forward(x)``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x):
        if not hasattr(self.model, 'data_preprocessor'):
            return self.model(x)
        samples = None
        if hasattr(self.model, 'roi_head'):  # two-stage detectors read image sizes from metas
            from mmdet.structures import DetDataSample
            size = tuple(x.shape[-2:])
            samples = [DetDataSample(metainfo=dict(img_shape=size, ori_shape=size,
                                                   pad_shape=size, batch_input_shape=size,
                                                   scale_factor=(1., 1.)))
                       for _ in range(len(x))]
        return self.model(x, samples, mode='tensor')


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def count_macs(model: nn.Module, input_shape: Tuple[int, int, int, int],
               children: Sequence[str] = ()) -> Union[int, Dict[str, int]]:
    """MACs of one forward of ``model`` (in eval mode) on a zero tensor of ``input_shape``;
    with ``children`` (names of submodules, e.g. backbone, neck, bbox_head; '' for the whole
    model), a dict of the MACs of each of them within that forward instead.

    A two-stage detector's second stage is counted for the proposals its RPN keeps on that
    input (its test_cfg's max_per_img when the RPN gives that many)."""
    was_training = model.training
    model.eval()
    analyzer = FlopAnalyzer(_TensorForward(model), (torch.zeros(input_shape), ))
    analyzer.set_op_handle('aten::scaled_dot_product_attention', _sdpa_macs)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    if children:
        by_module = analyzer.by_module()  # keyed by name within _TensorForward
        result = {name: by_module[f'model.{name}' if name else 'model'] for name in children}
    else:
        result = analyzer.total()
    model.train(was_training)
    return result
