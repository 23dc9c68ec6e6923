"""EfficientFormer (NeurIPS 2022) and EfficientFormerV2 (ICCV 2023), for dense prediction.

Both: a two-conv stem (stride 4) and four stages at strides 4, 8, 16, 32.

* V1: every stage is a stack of pooling MetaBlocks (``pool(x) - x`` token mixer + conv-BN MLP);
  the last ``vit_num`` blocks of stage 4 work on flattened tokens (LayerNorm, multi-head
  attention with a learned relative-position bias, linear MLP). Here that token part is folded
  back to NCHW at the end of the stage, so stage 4 is a feature map like the others.
* V2: blocks are a depthwise-conv MLP; the last ``vit_num`` blocks of stages 3 and 4 add
  talking-head attention (stage 3 attends on a stride-2 reduced grid), and stage 4 is entered
  through an attention downsample (queries on a stride-2 grid, keys on the full one).

The learned attention biases are resized to the token grid at run time
(:class:`~mmlow.models.layers.RelativePositionBias`), so any input size works; at the
pretraining size the computation is the reference one. Parameter names are mmlow's own;
``mmlow.converters`` maps official and timm layouts onto them.
"""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmpretrain.models.utils import LayerScale

from mmlow.registry import MODELS
from ..layers import ConvNormAct, RelativePositionBias, drop_path_rates
from .base import StagedBackbone

# widths/depths of stages 1-4; vit_num: attention blocks at the end of the last stage
ARCH_SETTINGS = {
    'l1': dict(widths=(48, 96, 224, 448), depths=(3, 2, 6, 4), vit_num=1),
    'l3': dict(widths=(64, 128, 320, 512), depths=(4, 4, 12, 6), vit_num=4),
    'l7': dict(widths=(96, 192, 384, 768), depths=(6, 6, 18, 8), vit_num=8),
}

# vit_num: attention blocks at the end of stages 3 and 4; mlp_ratios: one per block
ARCH_SETTINGS_V2 = {
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


def _resolve_arch(arch: Union[str, dict], table: dict, prefix: str, name: str,
                  required: Sequence[str]) -> dict:
    if isinstance(arch, dict):
        missing = set(required) - set(arch)
        if missing:
            raise ValueError(f'a custom {name} arch needs keys {sorted(missing)}')
        return dict(arch)
    key = str(arch).lower().replace(prefix, '').replace('-', '')
    if key not in table:
        raise ValueError(f'unknown {name} arch {arch!r}; choose one of {sorted(table)} '
                         f'or pass a dict with {", ".join(required)}')
    return dict(table[key])


def efficientformer_arch(arch: Union[str, dict]) -> dict:
    """Settings of a named (or custom, given as a dict) EfficientFormer V1 architecture."""
    return _resolve_arch(arch, ARCH_SETTINGS, 'efficientformer_', 'EfficientFormer',
                         ('widths', 'depths', 'vit_num'))


def efficientformerv2_arch(arch: Union[str, dict]) -> dict:
    """Settings of a named (or custom, given as a dict) EfficientFormerV2 architecture."""
    settings = _resolve_arch(arch, ARCH_SETTINGS_V2, 'efficientformerv2_', 'EfficientFormerV2',
                             ('widths', 'depths', 'vit_num'))
    settings.setdefault('mlp_ratios', tuple((4, ) * depth for depth in settings['depths']))
    return settings


def stage_grids(img_size: Union[int, Sequence[int]]) -> List[Tuple[int, int]]:
    """Token grid of each stage for an input size (stride-2 3x3 convs round up)."""
    size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
    grids = []
    for num_halvings in range(2, 6):
        height, width = size
        for _ in range(num_halvings):
            height, width = -(-height // 2), -(-width // 2)
        grids.append((height, width))
    return grids


def conv_stem(in_channels: int, out_channels: int, norm_cfg: dict, act_cfg: dict):
    """Two stride-2 3x3 conv-norm-act layers: stride 4."""
    return nn.Sequential(
        ConvNormAct(in_channels, out_channels // 2, 3, 2, bias=True, norm_cfg=norm_cfg,
                    act_cfg=act_cfg),
        ConvNormAct(out_channels // 2, out_channels, 3, 2, bias=True, norm_cfg=norm_cfg,
                    act_cfg=act_cfg))


class NormedConvMlp(nn.Module):
    """1x1 conv-norm-act, optional depthwise 3x3 conv-norm-act (V2), 1x1 conv-norm."""

    def __init__(self, channels: int, hidden_channels: int, mid_conv: bool = False,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU')):
        super().__init__()
        self.fc1 = ConvNormAct(channels, hidden_channels, 1, bias=True, norm_cfg=norm_cfg,
                               act_cfg=act_cfg)
        self.mid = ConvNormAct(hidden_channels, hidden_channels, 3, groups=hidden_channels,
                               bias=True, norm_cfg=norm_cfg,
                               act_cfg=act_cfg) if mid_conv else nn.Identity()
        self.fc2 = ConvNormAct(hidden_channels, channels, 1, bias=True, norm_cfg=norm_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.mid(self.fc1(x)))


# ----------------------------------------------------------------------------------------------
# EfficientFormer V1
# ----------------------------------------------------------------------------------------------
class PoolMixer(nn.Module):
    """PoolFormer's token mixer: 3x3 average (padding not counted) minus the input."""

    def __init__(self, pool_size: int = 3):
        super().__init__()
        self.pool = nn.AvgPool2d(pool_size, 1, pool_size // 2, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x) - x


class PoolBlock(nn.Module):
    """V1's 4D MetaBlock: x + ls1 * PoolMixer(x); x + ls2 * MLP(x)."""

    def __init__(self, channels: int, mlp_ratio: float = 4., drop_path: float = 0.,
                 layer_scale_init_value: float = 1e-5, norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='GELU')):
        super().__init__()
        self.token_mixer = PoolMixer()
        self.ls1 = LayerScale(channels, layer_scale_init_value, data_format='channels_first')
        self.mlp = NormedConvMlp(channels, int(channels * mlp_ratio), norm_cfg=norm_cfg,
                                 act_cfg=act_cfg)
        self.ls2 = LayerScale(channels, layer_scale_init_value, data_format='channels_first')
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.ls1(self.token_mixer(x)))
        return x + self.drop_path(self.ls2(self.mlp(x)))


class TokenAttention(nn.Module):
    """Multi-head self-attention on (B, N, C) tokens with a learned relative-position bias.

    ``qkv`` holds, per head, [q | k | v] with ``key_dim``, ``key_dim`` and
    ``attn_ratio * key_dim`` channels.
    """

    def __init__(self, channels: int, resolution: Tuple[int, int], key_dim: int = 32,
                 num_heads: int = 8, attn_ratio: int = 4):
        super().__init__()
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = attn_ratio * key_dim
        self.scale = key_dim ** -0.5
        self.qkv = nn.Linear(channels, num_heads * (2 * key_dim + self.value_dim))
        self.proj = nn.Linear(num_heads * self.value_dim, channels)
        self.pos_bias = RelativePositionBias(num_heads, resolution)

    def forward(self, x: torch.Tensor, grid_size: Tuple[int, int]) -> torch.Tensor:
        batch, num_tokens, _ = x.shape
        qkv = self.qkv(x).reshape(batch, num_tokens, self.num_heads, -1).permute(0, 2, 1, 3)
        q, k, v = qkv.split([self.key_dim, self.key_dim, self.value_dim], dim=3)
        attn = (q @ k.transpose(-2, -1)) * self.scale + self.pos_bias(grid_size)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(batch, num_tokens, -1)
        return self.proj(x)


class TokenMlp(nn.Module):
    """Linear -> act -> Linear on (B, N, C) tokens."""

    def __init__(self, channels: int, hidden_channels: int, act_cfg=dict(type='GELU')):
        super().__init__()
        self.fc1 = nn.Linear(channels, hidden_channels)
        self.act = build_activation_layer(act_cfg)
        self.fc2 = nn.Linear(hidden_channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class AttentionBlock(nn.Module):
    """V1's 3D MetaBlock on tokens: pre-norm attention and MLP, each with LayerScale."""

    def __init__(self, channels: int, resolution: Tuple[int, int], mlp_ratio: float = 4.,
                 drop_path: float = 0., layer_scale_init_value: float = 1e-5,
                 norm_cfg=dict(type='LN'), act_cfg=dict(type='GELU')):
        super().__init__()
        self.norm1 = build_norm_layer(norm_cfg, channels)[1]
        self.attn = TokenAttention(channels, resolution)
        self.ls1 = LayerScale(channels, layer_scale_init_value)
        self.norm2 = build_norm_layer(norm_cfg, channels)[1]
        self.mlp = TokenMlp(channels, int(channels * mlp_ratio), act_cfg)
        self.ls2 = LayerScale(channels, layer_scale_init_value)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor, grid_size: Tuple[int, int]) -> torch.Tensor:
        x = x + self.drop_path(self.ls1(self.attn(self.norm1(x), grid_size)))
        return x + self.drop_path(self.ls2(self.mlp(self.norm2(x))))


class EfficientFormerStage(nn.Module):
    """Optional downsample, pooling blocks, then attention blocks on flattened tokens.

    The attention part flattens the map to tokens and folds the result back into NCHW, so the
    stage always returns a feature map.
    """

    def __init__(self, downsample: nn.Module, blocks: Sequence[nn.Module],
                 token_blocks: Sequence[nn.Module] = ()):
        super().__init__()
        self.downsample = downsample
        self.blocks = nn.Sequential(*blocks)
        self.token_blocks = nn.ModuleList(token_blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.downsample(x))
        if len(self.token_blocks):
            batch, channels, height, width = x.shape
            tokens = x.flatten(2).transpose(1, 2)
            for block in self.token_blocks:
                tokens = block(tokens, (height, width))
            x = tokens.transpose(1, 2).reshape(batch, channels, height, width)
        return x


class _EfficientFormerBackbone(StagedBackbone):
    """What V1 and V2 share: output selection, per-output norms, freezing."""

    def _build_out_norms(self, out_norm_cfg: Optional[dict]) -> None:
        # the papers' dense-prediction protocol: a norm (GroupNorm, 1 group) on each output
        self.out_norm_cfg = out_norm_cfg
        if out_norm_cfg is not None:
            for index in self.out_indices:
                self.add_module(f'norm{index}',
                                build_norm_layer(out_norm_cfg, self.out_channels[index])[1])

    def _frozen_modules(self):
        yield from super()._frozen_modules()
        if self.out_norm_cfg is not None:
            for index in self.out_indices:
                if index < self.frozen_stages:
                    yield getattr(self, f'norm{index}')

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.stem(x)
        outs = []
        for index, stage in enumerate(self.stages):
            x = stage(x)
            if index in self.out_indices:
                outs.append(getattr(self, f'norm{index}')(x)
                            if self.out_norm_cfg is not None else x)
        return tuple(outs)


@MODELS.register_module()
class EfficientFormer(_EfficientFormerBackbone):
    """EfficientFormer (V1) backbone.

    Args:
        arch: 'l1', 'l3', 'l7' or a dict with ``widths``, ``depths`` and ``vit_num``.
        in_channels: input image channels.
        out_indices: stages to return, 0..3 at strides 4, 8, 16, 32 (all NCHW).
        frozen_stages: freeze the stem (0) and stages up to this index (1..4); -1 freezes none.
        norm_eval: keep BatchNorm layers in eval mode while training.
        out_norm_cfg: norm applied to each returned feature map, e.g.
            ``dict(type='GN', num_groups=1)`` as in the papers' detection/segmentation models;
            None (default) returns the raw stage outputs.
        pretrain_img_size: input size the attention bias was learned at (7x7 tokens for 224);
            other sizes resize the bias at run time.
        drop_path_rate: stochastic depth, rising linearly over all blocks.
        layer_scale_init_value: initial LayerScale.
        norm_cfg / token_norm_cfg: norms of the conv parts / of the attention blocks.
        act_cfg / stem_act_cfg: activation of the blocks / of the stem.
        deploy: build directly in fused (inference-only) form.
    """
    family = 'efficientformer'

    def __init__(self,
                 arch: Union[str, dict] = 'l1',
                 in_channels: int = 3,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 out_norm_cfg: Optional[dict] = None,
                 pretrain_img_size: Union[int, Sequence[int]] = 224,
                 drop_path_rate: float = 0.,
                 layer_scale_init_value: float = 1e-5,
                 mlp_ratio: float = 4.,
                 norm_cfg: dict = dict(type='BN'),
                 token_norm_cfg: dict = dict(type='LN'),
                 act_cfg: dict = dict(type='GELU'),
                 stem_act_cfg: dict = dict(type='ReLU'),
                 deploy: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        settings = efficientformer_arch(arch)
        self.arch_settings = settings
        widths, depths, vit_num = settings['widths'], settings['depths'], settings['vit_num']
        if not 0 <= vit_num <= depths[-1]:
            raise ValueError(f'vit_num {vit_num} must lie in [0, {depths[-1]}] (the depth of '
                             'the last stage)')
        self.out_indices = self._check_out_indices(out_indices, 4)
        self.out_channels = tuple(widths)
        attn_grid = stage_grids(pretrain_img_size)[-1]
        rates = iter(drop_path_rates(drop_path_rate, sum(depths)))
        block_cfg = dict(mlp_ratio=mlp_ratio, layer_scale_init_value=layer_scale_init_value,
                         act_cfg=act_cfg)

        self.stem = conv_stem(in_channels, widths[0], norm_cfg, stem_act_cfg)
        self.stages = nn.ModuleList()
        for index, (width, depth) in enumerate(zip(widths, depths)):
            downsample = (ConvNormAct(widths[index - 1], width, 3, 2, bias=True,
                                      norm_cfg=norm_cfg) if index > 0 else nn.Identity())
            num_attention = vit_num if index == len(widths) - 1 else 0
            blocks = [PoolBlock(width, drop_path=next(rates), norm_cfg=norm_cfg, **block_cfg)
                      for _ in range(depth - num_attention)]
            token_blocks = [AttentionBlock(width, attn_grid, drop_path=next(rates),
                                           norm_cfg=token_norm_cfg, **block_cfg)
                            for _ in range(num_attention)]
            self.stages.append(EfficientFormerStage(downsample, blocks, token_blocks))
        self._build_out_norms(out_norm_cfg)
        self._post_build(frozen_stages, norm_eval, deploy)


# ----------------------------------------------------------------------------------------------
# EfficientFormerV2
# ----------------------------------------------------------------------------------------------
class TalkingHeadAttention(nn.Module):
    """V2 attention on NCHW maps: conv-BN q/k/v, talking heads around the softmax, a local
    depthwise branch on v; optionally at a stride-2 reduced grid, bilinearly brought back.

    ``resolution`` is the grid the attention works on at the pretraining size (after the
    stride), where the learned bias is used as is.
    """

    def __init__(self, channels: int, resolution: Tuple[int, int], stride: Optional[int] = None,
                 key_dim: int = 32, num_heads: int = 8, attn_ratio: int = 4,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU')):
        super().__init__()
        self.num_heads = num_heads
        self.scale = key_dim ** -0.5
        key_channels = key_dim * num_heads
        self.value_channels = attn_ratio * key_dim * num_heads
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


class DownsampleAttention(nn.Module):
    """Attention from a stride-2 query grid to all tokens of the input grid (V2 stage 4)."""

    def __init__(self, in_channels: int, out_channels: int, resolution: Tuple[int, int],
                 key_dim: int = 16, num_heads: int = 8, attn_ratio: int = 4,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU')):
        super().__init__()
        self.num_heads = num_heads
        self.scale = key_dim ** -0.5
        key_channels = key_dim * num_heads
        self.value_channels = attn_ratio * key_dim * num_heads
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
class EfficientFormerV2(_EfficientFormerBackbone):
    """EfficientFormerV2 backbone.

    Args:
        arch: 's0', 's1', 's2', 'l' or a dict with ``widths``, ``depths``, ``vit_num`` (and
            optionally per-block ``mlp_ratios``).
        in_channels: input image channels.
        out_indices: stages to return, 0..3 at strides 4, 8, 16, 32.
        frozen_stages: freeze the stem (0) and stages up to this index (1..4); -1 freezes none.
        norm_eval: keep BatchNorm layers in eval mode while training.
        out_norm_cfg: norm applied to each returned feature map, e.g.
            ``dict(type='GN', num_groups=1)``; None (default) returns the raw stage outputs.
        pretrain_img_size: input size the attention biases were learned at; other sizes
            resize them at run time.
        drop_path_rate: stochastic depth, rising linearly over all blocks (the reference
            trains S2 with 0.02 and L with 0.1).
        layer_scale_init_value: initial LayerScale.
        norm_cfg / act_cfg: norm and activation of every conv unit and of the stem.
        deploy: build directly in fused (inference-only) form.
    """
    family = 'efficientformerv2'

    def __init__(self,
                 arch: Union[str, dict] = 's1',
                 in_channels: int = 3,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 out_norm_cfg: Optional[dict] = None,
                 pretrain_img_size: Union[int, Sequence[int]] = 224,
                 drop_path_rate: float = 0.,
                 layer_scale_init_value: float = 1e-5,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='GELU'),
                 deploy: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        settings = efficientformerv2_arch(arch)
        self.arch_settings = settings
        widths, depths, vit_num = settings['widths'], settings['depths'], settings['vit_num']
        for depth, ratios in zip(depths, settings['mlp_ratios']):
            if len(ratios) != depth:
                raise ValueError(f'mlp_ratios {settings["mlp_ratios"]} must give one ratio per '
                                 f'block of depths {depths}')
        self.out_indices = self._check_out_indices(out_indices, 4)
        self.out_channels = tuple(widths)
        grids = stage_grids(pretrain_img_size)
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
        self._build_out_norms(out_norm_cfg)
        self._post_build(frozen_stages, norm_eval, deploy)
