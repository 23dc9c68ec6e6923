"""What EfficientFormer V1 and V2 share: the two-conv stem (stride 4), the conv MLP, stages of
a downsample plus blocks (V1's attention part on flattened tokens) and the backbone base with
per-output norms (the papers' dense-prediction protocol).

The learned attention biases of both are resized to the token grid at run time
(:class:`~mmlow.models.layers.RelativePositionBias`), so any input size works; at the
pretraining size the computation is the reference one. Parameter names are mmlow's own;
``mmlow.converters`` maps official and timm layouts onto them.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from ..layers import ConvNormAct
from .base import StagedBackbone


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


class EfficientFormerBase(StagedBackbone):
    """What V1 and V2 share: output selection, per-output norms, freezing.

    Args:
        out_norm_cfg: norm applied to each returned feature map, e.g.
            ``dict(type='GN', num_groups=1)`` as in the papers' detection/segmentation models;
            None (default) returns the raw stage outputs.
        pretrain_img_size: input size the attention biases were learned at (V1: 7x7 tokens
            for 224); other sizes resize them at run time.
        kwargs: those of StagedBackbone: ``out_indices`` (NCHW stages 0..3 at strides 4, 8,
            16, 32), ``frozen_stages``, ``norm_eval``, ``deploy``, ``init_cfg``.
    """
    arch_required = ('widths', 'depths', 'vit_num')
    # V1 normalises tokens with LayerNorm before its head, V2 feature maps with BatchNorm
    head_norm = 'BN'

    @classmethod
    def classifier_head(cls, settings: dict, num_classes: int) -> dict:
        return dict(type='EfficientFormerNormClsHead', num_classes=num_classes,
                    in_channels=settings['widths'][-1], norm_cfg=dict(type=cls.head_norm))

    def __init__(self, out_norm_cfg: Optional[dict] = None,
                 pretrain_img_size: Union[int, Sequence[int]] = 224, **kwargs):
        super().__init__(**kwargs)
        self.out_norm_cfg = out_norm_cfg
        self.pretrain_grids = stage_grids(pretrain_img_size)

    def _post_build(self) -> None:
        # the papers' dense-prediction protocol: a norm (GroupNorm, 1 group) on each output
        if self.out_norm_cfg is not None:
            for index in self.out_indices:
                self.add_module(f'norm{index}',
                                build_norm_layer(self.out_norm_cfg, self.out_channels[index])[1])
        super()._post_build()

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
