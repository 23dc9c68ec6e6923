"""Conv + norm + activation, the brick every family here is built from, and BN folding."""
from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer


def fold_bn_into_conv(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """Return a conv (with bias) computing ``bn(conv(x))`` in eval mode."""
    std = (bn.running_var + bn.eps).sqrt()
    scale = bn.weight / std
    fused = nn.Conv2d(
        conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
        conv.padding, conv.dilation, conv.groups, bias=True,
        padding_mode=conv.padding_mode,
        device=conv.weight.device, dtype=conv.weight.dtype)
    conv_bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    with torch.no_grad():
        fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
        fused.bias.copy_(bn.bias + (conv_bias - bn.running_mean) * scale)
    return fused


def conv_from_transposed(deconv: nn.ConvTranspose2d) -> nn.Conv2d:
    """Return the conv computing a stride-1 ``deconv``: the kernel flipped, in and out swapped.

    PyTorch runs a small stride-1 transposed conv on its slow (non-oneDNN) CPU path, e.g.
    LowFormer-B1's last-stage attention projection at 7x7 is 1.6x slower than this conv.
    """
    if (deconv.stride != (1, 1) or deconv.groups != 1 or deconv.output_padding != (0, 0)
            or deconv.padding_mode != 'zeros'):
        raise ValueError(f'only a stride-1, ungrouped, zero-padded transposed conv is a conv; '
                         f'got {deconv}')
    padding = tuple(d * (k - 1) - p for d, k, p in
                    zip(deconv.dilation, deconv.kernel_size, deconv.padding))
    if min(padding) < 0:
        raise ValueError(f'{deconv} crops more than its kernel adds: no conv equivalent')
    conv = nn.Conv2d(deconv.in_channels, deconv.out_channels, deconv.kernel_size,
                     padding=padding, dilation=deconv.dilation, bias=deconv.bias is not None,
                     device=deconv.weight.device, dtype=deconv.weight.dtype)
    with torch.no_grad():
        conv.weight.copy_(deconv.weight.flip(-1, -2).transpose(0, 1))
        if deconv.bias is not None:
            conv.bias.copy_(deconv.bias)
    return conv


class ConvNormAct(nn.Module):
    """``conv -> norm -> act``; norm and act are optional and built from mm configs.

    ``act`` without ``norm`` is allowed on purpose: MBConv's expand and depthwise convs use it.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 1,
                 stride: int = 1,
                 groups: int = 1,
                 bias: bool = False,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: Optional[dict] = None):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride,
                              padding=kernel_size // 2, groups=groups, bias=bias)
        self.norm = build_norm_layer(norm_cfg, out_channels)[1] if norm_cfg else None
        self.act = build_activation_layer(act_cfg) if act_cfg else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.norm is not None:
            x = self.norm(x)
        if self.act is not None:
            x = self.act(x)
        return x

    def switch_to_deploy(self) -> None:
        if isinstance(self.norm, nn.modules.batchnorm._BatchNorm):
            self.conv = fold_bn_into_conv(self.conv, self.norm)
            self.norm = None


def switch_to_deploy(model: nn.Module) -> nn.Module:
    """Fuse every re-parameterisable submodule of ``model`` in place (eval mode only)."""
    if model.training:
        raise RuntimeError('switch_to_deploy() folds BatchNorm statistics: call model.eval() '
                           'first, fused models cannot be trained.')
    for module in list(model.modules()):
        if module is not model and hasattr(module, 'switch_to_deploy'):
            module.switch_to_deploy()
    return model
