"""Folding a BatchNorm1d that feeds a Linear layer into it, for deployment."""
import torch
import torch.nn as nn


def fold_bn_into_linear(bn: nn.BatchNorm1d, linear: nn.Linear) -> nn.Linear:
    """Return a Linear (with bias) computing ``linear(bn(x))`` with ``bn`` in eval mode."""
    scale = (bn.running_var + bn.eps).rsqrt()
    shift = -bn.running_mean * scale
    if bn.affine:
        scale = scale * bn.weight
        shift = shift * bn.weight + bn.bias
    fused = nn.Linear(linear.in_features, linear.out_features, bias=True,
                      device=linear.weight.device, dtype=linear.weight.dtype)
    linear_bias = linear.bias if linear.bias is not None else torch.zeros_like(fused.bias)
    with torch.no_grad():
        fused.weight.copy_(linear.weight * scale[None, :])
        fused.bias.copy_(linear.weight @ shift + linear_bias)
    return fused
