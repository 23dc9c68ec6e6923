"""EfficientFormer (NeurIPS 2022), for dense prediction.

A two-conv stem (stride 4) and four stages at strides 4, 8, 16, 32 of pooling MetaBlocks
(``pool(x) - x`` token mixer + conv-BN MLP); the last ``vit_num`` blocks of stage 4 work on
flattened tokens (LayerNorm, multi-head attention with a learned relative-position bias, linear
MLP). Here that token part is folded back to NCHW at the end of the stage, so stage 4 is a
feature map like the others. See :mod:`.efficientformer_common` for what V1 and V2 share.
"""
from typing import Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmpretrain.models.utils import LayerScale

from mmlow.errors import ConfigError
from mmlow.registry import MODELS
from ..layers import ConvNormAct, RelativePositionBias, drop_path_rates
from .efficientformer_common import (EfficientFormerBase, EfficientFormerStage, NormedConvMlp,
                                     conv_stem)

# widths/depths of stages 1-4; vit_num: attention blocks at the end of the last stage
ARCH_SETTINGS = {
    'l1': dict(widths=(48, 96, 224, 448), depths=(3, 2, 6, 4), vit_num=1),
    'l3': dict(widths=(64, 128, 320, 512), depths=(4, 4, 12, 6), vit_num=4),
    'l7': dict(widths=(96, 192, 384, 768), depths=(6, 6, 18, 8), vit_num=8),
}


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


@MODELS.register_module()
class EfficientFormer(EfficientFormerBase):
    """EfficientFormer (V1) backbone.

    Args:
        arch: 'l1', 'l3', 'l7' or a dict with ``widths``, ``depths`` and ``vit_num``.
        in_channels: input image channels.
        drop_path_rate: stochastic depth, rising linearly over all blocks.
        layer_scale_init_value: initial LayerScale.
        norm_cfg / token_norm_cfg: norms of the conv parts / of the attention blocks.
        act_cfg / stem_act_cfg: activation of the blocks / of the stem.
        kwargs: see EfficientFormerBase (``out_norm_cfg``, ``pretrain_img_size``, ...).
    """
    family = 'efficientformer'
    head_norm = 'LN'
    arch_zoo = ARCH_SETTINGS

    def __init__(self,
                 arch: Union[str, dict] = 'l1',
                 in_channels: int = 3,
                 drop_path_rate: float = 0.,
                 layer_scale_init_value: float = 1e-5,
                 mlp_ratio: float = 4.,
                 norm_cfg: dict = dict(type='BN'),
                 token_norm_cfg: dict = dict(type='LN'),
                 act_cfg: dict = dict(type='GELU'),
                 stem_act_cfg: dict = dict(type='ReLU'),
                 **kwargs):
        super().__init__(**kwargs)
        settings = self._setup(arch)
        widths, depths, vit_num = settings['widths'], settings['depths'], settings['vit_num']
        if not 0 <= vit_num <= depths[-1]:
            raise ConfigError(f'vit_num {vit_num} must lie in [0, {depths[-1]}] (the depth of '
                              'the last stage)')
        self.out_channels = tuple(widths)
        attn_grid = self.pretrain_grids[-1]
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
        self._post_build()
