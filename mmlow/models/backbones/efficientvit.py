"""EfficientViT (MSRA, CVPR 2023): memory-efficient ViT with cascaded group attention.

Not MIT's EfficientViT. A 16x conv stem, then three stages at strides 16, 32, 64 of "sandwich"
blocks: depthwise-conv token interaction and FFN on both sides of one windowed cascaded group
attention. Stages 2 and 3 start with a PatchMerging (inverted bottleneck with SE) wrapped in the
same depthwise + FFN residuals. Every conv is Conv+BN, folded for deployment.
Parameter names are mmlow's own; ``mmlow.converters`` maps official and timm layouts onto them.
"""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from mmpretrain.models.utils import SELayer

from mmlow.errors import ConfigError
from mmlow.registry import MODELS
from ..layers import (ConvNormAct, clamped_offset_index, drop_path_rates,
                      relative_offset_index)
from .base import StagedBackbone

# widths, depths and heads of the three stages; kernels: of the depthwise conv on each head's
# query, by head index.
ARCH_SETTINGS = {
    name: dict(widths=widths, depths=depths, num_heads=num_heads, kernels=kernels)
    for name, (widths, depths, num_heads, kernels) in {
        'm0': ((64, 128, 192), (1, 2, 3), (4, 4, 4), (5, 5, 5, 5)),
        'm1': ((128, 144, 192), (1, 2, 3), (2, 3, 3), (7, 5, 3, 3)),
        'm2': ((128, 192, 224), (1, 2, 3), (4, 3, 2), (7, 5, 3, 3)),
        'm3': ((128, 240, 320), (1, 2, 3), (4, 3, 4), (5, 5, 5, 5)),
        'm4': ((128, 256, 384), (1, 2, 3), (4, 4, 4), (7, 5, 3, 3)),
        'm5': ((192, 288, 384), (1, 3, 4), (3, 3, 4), (7, 5, 3, 3)),
    }.items()
}
# The papers' window is 7, but the models are trained at 224, where the stride-64 map is only 4x4:
# the official code shrinks that stage's window (and its learned bias table) to 4x4, so released
# checkpoints hold a 4x4 table there. Larger inputs are tiled into windows of the trained size.
ARCH_DEFAULTS = dict(key_dims=(16, 16, 16), window_sizes=(7, 7, 4), ffn_ratio=2, merge_ratio=4)


def _zero_init_norm(block: ConvNormAct) -> ConvNormAct:
    """Start a residual branch as identity: its last BN scales the branch by zero."""
    nn.init.zeros_(block.norm.weight)
    return block


def _se_channels(channels: int, ratio: float = 0.25, divisor: int = 8) -> int:
    """Squeeze width rounded to the nearest multiple of ``divisor``, as the reference SE does."""
    return max(divisor, int(channels * ratio + divisor / 2) // divisor * divisor)


class ConvFFN(nn.Module):
    """1x1 Conv+BN expansion, ReLU, 1x1 Conv+BN projection."""

    def __init__(self, channels: int, hidden_channels: int, norm_cfg=dict(type='BN')):
        super().__init__()
        self.expand = ConvNormAct(channels, hidden_channels, 1, norm_cfg=norm_cfg,
                                  act_cfg=dict(type='ReLU'))
        self.project = _zero_init_norm(ConvNormAct(hidden_channels, channels, 1,
                                                   norm_cfg=norm_cfg))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.expand(x))


def _depthwise(channels: int, norm_cfg: dict) -> ConvNormAct:
    """3x3 depthwise Conv+BN: the sandwich's local token interaction."""
    return ConvNormAct(channels, channels, 3, groups=channels, norm_cfg=norm_cfg)


class CascadedGroupAttention(nn.Module):
    """Window attention where each head sees its own channel split (cascaded group attention).

    Head i attends over its split plus head i-1's output, so later heads refine earlier ones;
    each query first passes a depthwise conv. A learned bias per head and per |dy|, |dx| offset
    inside a window is added to the logits. The input is padded to whole windows and cropped
    back, so any input size works with the trained window and bias table.

    With ``global_window`` the whole map is one window (e.g. a one-stream tracker's joint
    search + template map, whose tokens must all see each other); offsets beyond the trained
    window share the bias of the farthest trained offset.
    """

    def __init__(self, channels: int, key_dim: int, num_heads: int, window_size: int,
                 kernels: Sequence[int], norm_cfg=dict(type='BN'), global_window: bool = False):
        super().__init__()
        self.global_window = global_window
        self.num_heads = num_heads
        self.key_dim = key_dim
        # the reference's attn_ratio arithmetic, kept so custom widths round the same way
        self.val_dim = int(channels / (key_dim * num_heads) * key_dim)
        self.scale = key_dim**-0.5
        self.window_size = window_size
        self.qkvs = nn.ModuleList(
            ConvNormAct(channels // num_heads, 2 * key_dim + self.val_dim, 1, norm_cfg=norm_cfg)
            for _ in range(num_heads))
        self.query_dws = nn.ModuleList(
            ConvNormAct(key_dim, key_dim, kernels[i], groups=key_dim, norm_cfg=norm_cfg)
            for i in range(num_heads))
        self.proj = _zero_init_norm(ConvNormAct(self.val_dim * num_heads, channels, 1,
                                                norm_cfg=norm_cfg))
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, window_size**2))
        # windows keep the trained size, so the (N, N) gather index is fixed
        self.register_buffer('attention_bias_idxs', relative_offset_index(window_size),
                             persistent=False)

    def _attend(self, x: torch.Tensor, bias_index: torch.Tensor) -> torch.Tensor:
        """Cascaded attention over whole ``x``, a batch of windows."""
        batch, _, height, width = x.shape
        splits = x.chunk(self.num_heads, dim=1)
        biases = self.attention_biases[:, bias_index]
        head_outs = []
        feat = splits[0]
        for index, (qkv, query_dw) in enumerate(zip(self.qkvs, self.query_dws)):
            if index > 0:
                feat = feat + splits[index]
            q, k, v = qkv(feat).split([self.key_dim, self.key_dim, self.val_dim], dim=1)
            q = query_dw(q)
            q, k, v = q.flatten(2), k.flatten(2), v.flatten(2)
            attn = (q * self.scale).transpose(-2, -1) @ k + biases[index]
            feat = (v @ attn.softmax(dim=-1).transpose(-2, -1)).view(
                batch, self.val_dim, height, width)
            head_outs.append(feat)
        return self.proj(F.relu(torch.cat(head_outs, dim=1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        size = self.window_size
        if self.global_window:
            return self._attend(x, clamped_offset_index((height, width), size, x.device))
        if height == size and width == size:
            return self._attend(x, self.attention_bias_idxs)
        pad_bottom, pad_right = -height % size, -width % size
        x = F.pad(x, (0, pad_right, 0, pad_bottom))
        rows, cols = (height + pad_bottom) // size, (width + pad_right) // size
        windows = x.view(batch, channels, rows, size, cols, size).permute(0, 2, 4, 1, 3, 5)
        windows = self._attend(windows.reshape(batch * rows * cols, channels, size, size),
                               self.attention_bias_idxs)
        x = windows.view(batch, rows, cols, channels, size, size).permute(0, 3, 1, 4, 2, 5)
        return x.reshape(batch, channels, rows * size, cols * size)[:, :, :height, :width]


class EfficientViTBlock(nn.Module):
    """Sandwich block: (depthwise, FFN), attention, (depthwise, FFN), each a residual."""

    def __init__(self, channels: int, key_dim: int, num_heads: int, window_size: int,
                 kernels: Sequence[int], ffn_ratio: int = 2, drop_path: float = 0.,
                 norm_cfg=dict(type='BN'), global_window: bool = False):
        super().__init__()
        self.dw0 = _zero_init_norm(_depthwise(channels, norm_cfg))
        self.ffn0 = ConvFFN(channels, channels * ffn_ratio, norm_cfg)
        self.attn = CascadedGroupAttention(channels, key_dim, num_heads, window_size, kernels,
                                           norm_cfg, global_window)
        self.dw1 = _zero_init_norm(_depthwise(channels, norm_cfg))
        self.ffn1 = ConvFFN(channels, channels * ffn_ratio, norm_cfg)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for branch in (self.dw0, self.ffn0, self.attn, self.dw1, self.ffn1):
            x = x + self.drop_path(branch(x))
        return x


class PatchMerging(nn.Module):
    """Stride-2 inverted bottleneck: 1x1 expand, 3x3 depthwise s2, SE, 1x1 project."""

    def __init__(self, in_channels: int, out_channels: int, expand_ratio: int = 4,
                 norm_cfg=dict(type='BN')):
        super().__init__()
        hidden = in_channels * expand_ratio
        relu = dict(type='ReLU')
        self.expand = ConvNormAct(in_channels, hidden, 1, norm_cfg=norm_cfg, act_cfg=relu)
        self.dw = ConvNormAct(hidden, hidden, 3, 2, groups=hidden, norm_cfg=norm_cfg,
                              act_cfg=relu)
        self.se = SELayer(hidden, squeeze_channels=_se_channels(hidden))
        self.project = ConvNormAct(hidden, out_channels, 1, norm_cfg=norm_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.se(self.dw(self.expand(x))))


class EfficientViTDownsample(nn.Module):
    """PatchMerging between residual (depthwise, FFN) pairs at the input and output widths."""

    def __init__(self, in_channels: int, out_channels: int, ffn_ratio: int = 2,
                 merge_ratio: int = 4, norm_cfg=dict(type='BN')):
        super().__init__()
        self.dw_pre = _depthwise(in_channels, norm_cfg)
        self.ffn_pre = ConvFFN(in_channels, in_channels * ffn_ratio, norm_cfg)
        self.merge = PatchMerging(in_channels, out_channels, merge_ratio, norm_cfg)
        self.dw_post = _depthwise(out_channels, norm_cfg)
        self.ffn_post = ConvFFN(out_channels, out_channels * ffn_ratio, norm_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.dw_pre(x)
        x = x + self.ffn_pre(x)
        x = self.merge(x)
        x = x + self.dw_post(x)
        return x + self.ffn_post(x)


class EfficientViTStage(nn.Module):
    """Optional downsample followed by sandwich blocks."""

    def __init__(self, downsample: Optional[nn.Module], blocks: List[nn.Module]):
        super().__init__()
        self.downsample = downsample
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.downsample is not None:
            x = self.downsample(x)
        return self.blocks(x)


@MODELS.register_module()
class EfficientViTMSRA(StagedBackbone):
    """EfficientViT (MSRA) backbone; any input size (windows are padded).

    Args:
        arch: 'm0'..'m5' or a dict with ``widths``, ``depths``, ``num_heads``, ``kernels``
            (and optionally the other keys of ``ARCH_DEFAULTS``).
        drop_path_rate: stochastic depth of the sandwich blocks' residual branches, rising
            linearly to this rate (the reference trains without it).
        global_attention_stages: stages whose attention spans the whole map in one window
            instead of trained-size windows (a one-stream tracker's joint stage); none by
            default, as in the reference.
        kwargs: ``out_indices`` (stages 0..2 at strides 16, 32, 64),
            ``frozen_stages``, ``norm_eval``, ``deploy``, ``init_cfg``: see StagedBackbone.
    """
    family = 'efficientvit'
    arch_zoo = ARCH_SETTINGS

    @classmethod
    def classifier_head(cls, settings: dict, num_classes: int) -> dict:
        return dict(type='EfficientViTClsHead', num_classes=num_classes,
                    in_channels=settings['widths'][-1])
    arch_defaults = ARCH_DEFAULTS
    arch_required = ('widths', 'depths', 'num_heads', 'kernels')

    @classmethod
    def resolve_arch(cls, arch: Union[str, dict]) -> dict:
        settings = super().resolve_arch(arch)
        for width, heads in zip(settings['widths'], settings['num_heads']):
            if width % heads or heads > len(settings['kernels']):
                raise ConfigError(f'EfficientViT width {width} must split evenly into {heads} '
                                  f'heads, with a query kernel per head (kernels '
                                  f'{settings["kernels"]})')
        return settings

    def __init__(self,
                 arch: Union[str, dict] = 'm4',
                 in_channels: int = 3,
                 drop_path_rate: float = 0.,
                 norm_cfg: dict = dict(type='BN'),
                 global_attention_stages: Sequence[int] = (),
                 **kwargs):
        super().__init__(**kwargs)
        settings = self._setup(arch)
        widths = settings['widths']
        global_stages = tuple(global_attention_stages)
        if not set(global_stages) <= set(range(len(widths))):
            raise ConfigError(f'global_attention_stages {global_stages} must be stage indices '
                              f'0..{len(widths) - 1}')
        self.out_channels = tuple(widths)

        relu = dict(type='ReLU')
        stem_widths = (in_channels, widths[0] // 8, widths[0] // 4, widths[0] // 2, widths[0])
        self.stem = nn.Sequential(*(
            ConvNormAct(stem_widths[i], stem_widths[i + 1], 3, 2, norm_cfg=norm_cfg,
                        act_cfg=relu if i < 3 else None) for i in range(4)))

        rates = iter(drop_path_rates(drop_path_rate, sum(settings['depths'])))
        self.stages = nn.ModuleList()
        for index, width in enumerate(widths):
            downsample = None
            if index > 0:
                downsample = EfficientViTDownsample(widths[index - 1], width,
                                                    settings['ffn_ratio'],
                                                    settings['merge_ratio'], norm_cfg)
            blocks = [
                EfficientViTBlock(width, settings['key_dims'][index],
                                  settings['num_heads'][index], settings['window_sizes'][index],
                                  settings['kernels'], settings['ffn_ratio'], next(rates),
                                  norm_cfg, index in global_stages)
                for _ in range(settings['depths'][index])
            ]
            self.stages.append(EfficientViTStage(downsample, blocks))
        self._post_build()
