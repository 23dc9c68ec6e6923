"""LowFormer (WACV 2025) and its edge-GPU E-series ("Beyond MACs", IJCV 2026).

Stem + four stages at strides 4, 8, 16, 32. Stages 1-2 are FusedMBConv stacks; stages 3-4 start
with a FusedMBConv downsample followed by LowFormer blocks (Lowtention + MLP + local conv).
Parameter names are mmlow's own; ``mmlow.converters`` maps official and timm layouts onto them.
"""
from typing import Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks import DropPath

from mmlow.errors import ConfigError
from mmlow.registry import MODELS
from ..layers import ConvMlp, ConvNormAct, conv_from_transposed, drop_path_rates
from .base import StagedBackbone

# widths/depths: stem and stages 1-4. head_widths belong to the classification head.
ARCH_SETTINGS = {
    'b0': dict(widths=(16, 32, 64, 128, 256), depths=(0, 1, 1, 3, 4),
               downsample_expand_ratios=(4, 4, 4, 4)),
    'b1': dict(widths=(16, 32, 64, 128, 256), depths=(0, 1, 1, 5, 5)),
    'b15': dict(widths=(20, 40, 80, 160, 320), depths=(0, 1, 1, 6, 6),
                head_widths=(2304, 2560)),
    # the official B2 file says depths (0, 0, 0, 6, 6): a known bug, the paper's model is this one
    'b2': dict(widths=(24, 48, 96, 192, 384), depths=(0, 1, 1, 6, 6),
               head_widths=(2304, 2560)),
    'b3': dict(widths=(32, 64, 128, 256, 512), depths=(1, 2, 3, 6, 6), stem_expand_ratio=4),
    'e1': dict(widths=(20, 40, 80, 160, 320), depths=(0, 1, 1, 4, 4),
               head_widths=(2304, 2560), attention=False, mlp=False),
    'e2': dict(widths=(32, 64, 128, 256, 512), depths=(1, 2, 3, 4, 4), stem_expand_ratio=4,
               attention=False, mlp=False),
    'e3': dict(widths=(32, 64, 128, 256, 512), depths=(1, 2, 3, 6, 6), stem_expand_ratio=4,
               mlp=False),
}
ARCH_DEFAULTS = dict(stem_expand_ratio=2, downsample_expand_ratios=(6, 6, 6, 6),
                     head_widths=(1536, 1600), attention=True, mlp=True)


class _ExpandProject(nn.Module):
    """Widen by ``expand_ratio``, then project to ``out_channels``; adds the input back when
    ``residual`` (stride 1, same width), with stochastic depth. Subclasses build the layers."""

    def __init__(self, in_channels, out_channels, stride=1, expand_ratio=4., bias=False,
                 residual=False, drop_path=0., norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='HSwish')):
        super().__init__()
        self._build(in_channels, round(in_channels * expand_ratio), out_channels, stride,
                    dict(bias=bias, act_cfg=act_cfg), norm_cfg)
        self.residual = residual
        self.drop_path = DropPath(drop_path) if residual and drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self._branch(x)
        return self.drop_path(out) + x if self.residual else out


class FusedMBConv(_ExpandProject):
    """Full 3x3 conv expanding the width, then a 1x1 projection."""

    def _build(self, in_channels, mid_channels, out_channels, stride, expand_cfg, norm_cfg):
        self.spatial_conv = ConvNormAct(in_channels, mid_channels, 3, stride,
                                        norm_cfg=norm_cfg, **expand_cfg)
        self.point_conv = ConvNormAct(mid_channels, out_channels, 1, norm_cfg=norm_cfg)

    def _branch(self, x: torch.Tensor) -> torch.Tensor:
        return self.point_conv(self.spatial_conv(x))


class MBConv(_ExpandProject):
    """Inverted bottleneck: 1x1 expand, depthwise 3x3, 1x1 project (norm on the last only)."""

    def _build(self, in_channels, mid_channels, out_channels, stride, expand_cfg, norm_cfg):
        self.inverted_conv = ConvNormAct(in_channels, mid_channels, 1, norm_cfg=None,
                                         **expand_cfg)
        self.depth_conv = ConvNormAct(mid_channels, mid_channels, 3, stride,
                                      groups=mid_channels, norm_cfg=None, **expand_cfg)
        self.point_conv = ConvNormAct(mid_channels, out_channels, 1, norm_cfg=norm_cfg)

    def _branch(self, x: torch.Tensor) -> torch.Tensor:
        return self.point_conv(self.depth_conv(self.inverted_conv(x)))


class Lowtention(nn.Module):
    """Softmax attention computed on depthwise-downsampled tokens.

    Tokens are reduced by a strided depthwise conv (+BN), attended at the low resolution, and
    brought back by a transposed conv that also acts as the output projection; the result is
    cropped to the input size, so any input size works.
    """

    def __init__(self, channels: int, stride: int, norm_cfg=dict(type='BN')):
        super().__init__()
        self.num_heads = int(max(1, (channels * 0.5) // 30))
        self.head_dim = int((channels // self.num_heads) * 0.5)
        inner_channels = self.head_dim * self.num_heads
        kernel_size = 5 if stride > 1 else 3
        self.token_down = ConvNormAct(channels, channels, kernel_size, stride, groups=channels,
                                      norm_cfg=norm_cfg)
        self.qkv = nn.Conv2d(channels, 3 * inner_channels, 1, bias=False)
        if stride == 1:
            self.proj_up = nn.ConvTranspose2d(inner_channels, channels, 3, 1, 1)
        else:
            self.proj_up = nn.ConvTranspose2d(inner_channels, channels, 2 * stride, stride,
                                              stride // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        qkv = self.qkv(self.token_down(x))
        batch, _, h, w = qkv.shape
        # channels are laid out per head as [q | k | v]
        qkv = qkv.reshape(batch, self.num_heads, 3 * self.head_dim, h * w).transpose(-1, -2)
        q, k, v = qkv.chunk(3, dim=-1)
        out = F.scaled_dot_product_attention(q, k, v)
        out = out.transpose(-1, -2).reshape(batch, self.num_heads * self.head_dim, h, w)
        return self.proj_up(out)[..., :height, :width]

    def switch_to_deploy(self) -> None:
        if isinstance(self.proj_up, nn.ConvTranspose2d) and self.proj_up.stride == (1, 1):
            self.proj_up = conv_from_transposed(self.proj_up)


class LowFormerBlock(nn.Module):
    """x + Attn(GN(x)); x + MLP(x); x + Local(x). E-variants drop the attention and/or MLP."""

    def __init__(self, channels: int, attn_stride: int, attention=True, mlp=True,
                 mlp_ratio=4, expand_ratio=4., drop_path=0., norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='HSwish')):
        super().__init__()
        # the reference pre-normalises attention only in blocks that also have the MLP
        self.attn_norm = (build_norm_layer(dict(type='GN', num_groups=1), channels)[1]
                          if attention and mlp else None)
        self.attn = Lowtention(channels, attn_stride, norm_cfg) if attention else None
        self.mlp = ConvMlp(channels, channels * mlp_ratio,
                           norm_cfg=dict(type='GN', num_groups=1)) if mlp else None
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        local_block = FusedMBConv if channels < 256 else MBConv
        self.local = local_block(channels, channels, expand_ratio=expand_ratio, bias=True,
                                 residual=True, drop_path=drop_path, norm_cfg=norm_cfg,
                                 act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.attn is not None:
            attn_in = self.attn_norm(x) if self.attn_norm is not None else x
            x = self.drop_path(self.attn(attn_in)) + x
        if self.mlp is not None:
            x = self.drop_path(self.mlp(x)) + x
        return self.local(x)


@MODELS.register_module()
class LowFormer(StagedBackbone):
    """LowFormer backbone.

    Args:
        arch: 'b0', 'b1', 'b15', 'b2', 'b3', 'e1', 'e2', 'e3' or a dict with ``widths`` and
            ``depths`` (and optionally the other keys of ``ARCH_DEFAULTS``).
        kwargs: ``out_indices`` (stages 0..3 at strides 4, 8, 16, 32),
            ``frozen_stages``, ``norm_eval``, ``deploy``, ``init_cfg``: see StagedBackbone.
    """
    family = 'lowformer'
    arch_zoo = ARCH_SETTINGS

    @classmethod
    def classifier_head(cls, settings: dict, num_classes: int) -> dict:
        return dict(type='LowFormerClsHead', num_classes=num_classes,
                    in_channels=settings['widths'][-1], hidden_widths=settings['head_widths'])
    arch_defaults = ARCH_DEFAULTS

    def _num_stages(self, settings: dict) -> int:
        return len(settings['depths']) - 1  # depths[0] is the stem's

    def __init__(self,
                 arch: Union[str, dict] = 'b1',
                 in_channels: int = 3,
                 drop_path_rate: float = 0.,
                 expand_ratio: float = 4.,
                 mlp_ratio: int = 4,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='HSwish'),
                 **kwargs):
        super().__init__(**kwargs)
        settings = self._setup(arch)
        widths, depths = settings['widths'], settings['depths']
        self.out_channels = tuple(widths[1:])
        block_cfg = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        rates = iter(drop_path_rates(drop_path_rate, sum(depths)))

        stem = [ConvNormAct(in_channels, widths[0], 3, 2, **block_cfg)]
        for _ in range(depths[0]):
            stem.append(FusedMBConv(widths[0], widths[0], 1, settings['stem_expand_ratio'],
                                    residual=True, drop_path=next(rates), **block_cfg))
        self.stem = nn.Sequential(*stem)

        self.stages = nn.ModuleList()
        in_width = widths[0]
        for index, (width, depth) in enumerate(zip(widths[1:], depths[1:])):
            down_ratio = settings['downsample_expand_ratios'][index]
            blocks = []
            if index < 2:
                for i in range(depth):
                    stride = 2 if i == 0 else 1
                    blocks.append(FusedMBConv(
                        in_width, width, stride, down_ratio if stride == 2 else expand_ratio,
                        residual=stride == 1, drop_path=next(rates), **block_cfg))
                    in_width = width
            else:
                blocks.append(FusedMBConv(in_width, width, 2, down_ratio, **block_cfg))
                in_width = width
                for _ in range(depth):
                    blocks.append(LowFormerBlock(
                        width, attn_stride=2 if index == 2 else 1,
                        attention=settings['attention'], mlp=settings['mlp'],
                        mlp_ratio=mlp_ratio, expand_ratio=expand_ratio,
                        drop_path=next(rates), **block_cfg))
            if not blocks:
                raise ConfigError(f'LowFormer stage {index + 1} has depth 0: every stage needs '
                                  'at least its downsampling block')
            self.stages.append(nn.Sequential(*blocks))
        self._post_build()
