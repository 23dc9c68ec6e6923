"""EfficientFormerV2 (ICCV 2023), for dense prediction.

A two-conv stem (stride 4) and four stages at strides 4, 8, 16, 32 of blocks with a
depthwise-conv MLP; the last ``vit_num`` blocks of stages 3 and 4 add talking-head attention
(stage 3 attends on a stride-2 reduced grid), and stage 4 is entered through an attention
downsample (queries on a stride-2 grid, keys on the full one). See
:mod:`.efficientformer_common` for what V1 and V2 share.
"""
import math
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from mmcv.cnn.bricks import DropPath
from mmpretrain.models.utils import LayerScale

from mmlow.errors import ConfigError
from mmlow.registry import MODELS
from ..layers import ConvNormAct, RelativePositionBias, drop_path_rates
from .efficientformer_common import (EfficientFormerBase, EfficientFormerStage, NormedConvMlp,
                                     conv_stem)

# vit_num: attention blocks at the end of stages 3 and 4; mlp_ratios: one per block
ARCH_SETTINGS = {
    's0': dict(widths=(32, 48, 96, 176), depths=(2, 2, 6, 4), vit_num=2,
               mlp_ratios=((4, 4), (4, 4), (4, 3, 3, 3, 4, 4), (4, 3, 3, 4))),
    's1': dict(widths=(32, 48, 120, 224), depths=(3, 3, 9, 6), vit_num=2,
               mlp_ratios=((4, 4, 4), (4, 4, 4), (4, 4, 3, 3, 3, 3, 4, 4, 4),
                           (4, 4, 3, 3, 4, 4))),
    's2': dict(widths=(32, 64, 144, 288), depths=(4, 4, 12, 8), vit_num=4,
               mlp_ratios=((4, 4, 4, 4), (4, 4, 4, 4), (4, 4, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4),
                           (4, 4, 3, 3, 3, 3, 4, 4))),
    'l': dict(widths=(40, 80, 192, 384), depths=(5, 5, 15, 10), vit_num=6,
              mlp_ratios=((4, 4, 4, 4, 4), (4, 4, 4, 4, 4),
                          (4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4),
                          (4, 4, 4, 3, 3, 3, 3, 4, 4, 4))),
}


class _MultiHead(nn.Module):
    """Head bookkeeping of V2's conv attentions: ``num_heads`` heads of ``key_dim`` query/key
    channels and ``attn_ratio * key_dim`` value channels."""

    def _init_heads(self, key_dim: int, num_heads: int, attn_ratio: int) -> int:
        self.num_heads = num_heads
        self.scale = key_dim ** -0.5
        self.value_channels = attn_ratio * key_dim * num_heads
        return key_dim * num_heads


class TalkingHeadAttention(_MultiHead):
    """V2 attention on NCHW maps: conv-BN q/k/v, talking heads around the softmax, a local
    depthwise branch on v; optionally at a stride-2 reduced grid, bilinearly brought back.

    ``resolution`` is the grid the attention works on at the pretraining size (after the
    stride), where the learned bias is used as is.
    """

    def __init__(self, channels: int, resolution: Tuple[int, int], stride: Optional[int] = None,
                 key_dim: int = 32, num_heads: int = 8, attn_ratio: int = 4,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU')):
        super().__init__()
        key_channels = self._init_heads(key_dim, num_heads, attn_ratio)
        conv_cfg = dict(bias=True, norm_cfg=norm_cfg)
        self.stride_conv = (ConvNormAct(channels, channels, 3, stride, groups=channels,
                                        **conv_cfg) if stride else None)
        self.q = ConvNormAct(channels, key_channels, 1, **conv_cfg)
        self.k = ConvNormAct(channels, key_channels, 1, **conv_cfg)
        self.v = ConvNormAct(channels, self.value_channels, 1, **conv_cfg)
        self.v_local = ConvNormAct(self.value_channels, self.value_channels, 3,
                                   groups=self.value_channels, **conv_cfg)
        self.talking_head1 = nn.Conv2d(num_heads, num_heads, 1)
        self.talking_head2 = nn.Conv2d(num_heads, num_heads, 1)
        self.act = build_activation_layer(act_cfg)
        self.proj = ConvNormAct(self.value_channels, channels, 1, **conv_cfg)
        self.pos_bias = RelativePositionBias(num_heads, resolution)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        in_size = x.shape[-2:]
        if self.stride_conv is not None:
            x = self.stride_conv(x)
        batch, _, height, width = x.shape
        num_tokens = height * width
        q = self.q(x).reshape(batch, self.num_heads, -1, num_tokens).transpose(-2, -1)
        k = self.k(x).reshape(batch, self.num_heads, -1, num_tokens)
        v = self.v(x)
        v_local = self.v_local(v)
        v = v.reshape(batch, self.num_heads, -1, num_tokens).transpose(-2, -1)

        attn = (q @ k) * self.scale + self.pos_bias((height, width))
        attn = self.talking_head2(self.talking_head1(attn).softmax(dim=-1))
        x = (attn @ v).transpose(-2, -1).reshape(batch, self.value_channels, height, width)
        x = x + v_local
        if self.stride_conv is not None:
            # back to the input size, not by a fixed factor: the reference's x2 upsample breaks
            # on odd sizes, and at even ones both resample identically
            x = F.interpolate(x, size=in_size, mode='bilinear', align_corners=False)
        return self.proj(self.act(x))


class LocalGlobalQuery(nn.Module):
    """Stride-2 queries: depthwise 3x3 conv plus strided sampling, then 1x1 conv-BN."""

    def __init__(self, in_channels: int, out_channels: int, norm_cfg=dict(type='BN')):
        super().__init__()
        self.local = nn.Conv2d(in_channels, in_channels, 3, 2, 1, groups=in_channels)
        self.pool = nn.AvgPool2d(1, 2, 0)
        self.proj = ConvNormAct(in_channels, out_channels, 1, bias=True, norm_cfg=norm_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.local(x) + self.pool(x))


class DownsampleAttention(_MultiHead):
    """Attention from a stride-2 query grid to all tokens of the input grid (V2 stage 4)."""

    def __init__(self, in_channels: int, out_channels: int, resolution: Tuple[int, int],
                 key_dim: int = 16, num_heads: int = 8, attn_ratio: int = 4,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU')):
        super().__init__()
        key_channels = self._init_heads(key_dim, num_heads, attn_ratio)
        conv_cfg = dict(bias=True, norm_cfg=norm_cfg)
        self.q = LocalGlobalQuery(in_channels, key_channels, norm_cfg)
        self.k = ConvNormAct(in_channels, key_channels, 1, **conv_cfg)
        self.v = ConvNormAct(in_channels, self.value_channels, 1, **conv_cfg)
        self.v_local = ConvNormAct(self.value_channels, self.value_channels, 3, 2,
                                   groups=self.value_channels, **conv_cfg)
        self.act = build_activation_layer(act_cfg)
        self.proj = ConvNormAct(self.value_channels, out_channels, 1, **conv_cfg)
        self.pos_bias = RelativePositionBias(num_heads, resolution, query_stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        q = self.q(x)
        out_height, out_width = q.shape[-2:]
        q = q.reshape(batch, self.num_heads, -1, out_height * out_width).transpose(-2, -1)
        k = self.k(x).reshape(batch, self.num_heads, -1, height * width)
        v = self.v(x)
        v_local = self.v_local(v)
        v = v.reshape(batch, self.num_heads, -1, height * width).transpose(-2, -1)

        attn = ((q @ k) * self.scale + self.pos_bias((height, width))).softmax(dim=-1)
        x = (attn @ v).transpose(-2, -1).reshape(batch, self.value_channels, out_height,
                                                  out_width)
        return self.proj(self.act(x + v_local))


class AttentionDownsample(nn.Module):
    """Stride-2 conv-BN plus :class:`DownsampleAttention` on the same input."""

    def __init__(self, in_channels: int, out_channels: int, resolution: Tuple[int, int],
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU')):
        super().__init__()
        self.conv = ConvNormAct(in_channels, out_channels, 3, 2, bias=True, norm_cfg=norm_cfg)
        self.attn = DownsampleAttention(in_channels, out_channels, resolution,
                                        norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(x) + self.conv(x)


class EfficientFormerV2Block(nn.Module):
    """x + ls1 * Attn(x) (attention blocks only); x + ls2 * MLP(x) with a depthwise mid conv."""

    def __init__(self, channels: int, mlp_ratio: float, resolution: Optional[Tuple[int, int]],
                 attn_stride: Optional[int] = None, drop_path: float = 0.,
                 layer_scale_init_value: float = 1e-5, norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='GELU')):
        super().__init__()
        if resolution is not None:
            self.attn = TalkingHeadAttention(channels, resolution, attn_stride,
                                             norm_cfg=norm_cfg, act_cfg=act_cfg)
            self.ls1 = LayerScale(channels, layer_scale_init_value,
                                  data_format='channels_first')
        else:
            self.attn = None
        self.mlp = NormedConvMlp(channels, int(channels * mlp_ratio), mid_conv=True,
                                 norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.ls2 = LayerScale(channels, layer_scale_init_value, data_format='channels_first')
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.attn is not None:
            x = x + self.drop_path(self.ls1(self.attn(x)))
        return x + self.drop_path(self.ls2(self.mlp(x)))


@MODELS.register_module()
class EfficientFormerV2(EfficientFormerBase):
    """EfficientFormerV2 backbone.

    Args:
        arch: 's0', 's1', 's2', 'l' or a dict with ``widths``, ``depths``, ``vit_num`` (and
            optionally per-block ``mlp_ratios``).
        in_channels: input image channels.
        drop_path_rate: stochastic depth, rising linearly over all blocks (the reference
            trains S2 with 0.02 and L with 0.1).
        layer_scale_init_value: initial LayerScale.
        norm_cfg / act_cfg: norm and activation of every conv unit and of the stem.
        kwargs: see EfficientFormerBase (``out_norm_cfg``, ``pretrain_img_size``, ...).
    """
    family = 'efficientformerv2'
    arch_zoo = ARCH_SETTINGS

    @classmethod
    def resolve_arch(cls, arch: Union[str, dict]) -> dict:
        settings = super().resolve_arch(arch)
        settings.setdefault('mlp_ratios', tuple((4, ) * depth for depth in settings['depths']))
        return settings

    def __init__(self,
                 arch: Union[str, dict] = 's1',
                 in_channels: int = 3,
                 drop_path_rate: float = 0.,
                 layer_scale_init_value: float = 1e-5,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='GELU'),
                 **kwargs):
        super().__init__(**kwargs)
        settings = self._setup(arch)
        widths, depths, vit_num = settings['widths'], settings['depths'], settings['vit_num']
        for depth, ratios in zip(depths, settings['mlp_ratios']):
            if len(ratios) != depth:
                raise ConfigError(f'mlp_ratios {settings["mlp_ratios"]} must give one ratio per '
                                  f'block of depths {depths}')
        self.out_channels = tuple(widths)
        grids = self.pretrain_grids
        rates = iter(drop_path_rates(drop_path_rate, sum(depths)))
        unit_cfg = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)

        self.stem = conv_stem(in_channels, widths[0], norm_cfg, act_cfg)
        self.stages = nn.ModuleList()
        for index, (width, depth) in enumerate(zip(widths, depths)):
            if index == 0:
                downsample = nn.Identity()
            elif index < 3:
                downsample = ConvNormAct(widths[index - 1], width, 3, 2, bias=True,
                                         norm_cfg=norm_cfg)
            else:
                downsample = AttentionDownsample(widths[index - 1], width, grids[index - 1],
                                                 **unit_cfg)
            # stage 3 attends on a stride-2 reduced grid, stage 4 on its own grid
            attn_stride = 2 if index == 2 else None
            attn_grid = tuple(math.ceil(size / (attn_stride or 1)) for size in grids[index])
            blocks = []
            for block_index in range(depth):
                use_attn = index >= 2 and block_index >= depth - vit_num
                blocks.append(EfficientFormerV2Block(
                    width, settings['mlp_ratios'][index][block_index],
                    attn_grid if use_attn else None, attn_stride, drop_path=next(rates),
                    layer_scale_init_value=layer_scale_init_value, **unit_cfg))
            self.stages.append(EfficientFormerStage(downsample, blocks))
        self._post_build()
