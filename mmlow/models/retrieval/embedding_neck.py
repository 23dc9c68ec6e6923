"""Pooled backbone features -> a unit-length embedding of a chosen size."""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule

from mmlow.registry import MODELS


@MODELS.register_module()
class EmbeddingNeck(BaseModule):
    """Linear projection + normalisation, then L2 normalisation.

    Takes what ``GlobalAveragePooling`` returns (a tuple of (N, C) features; the last is used)
    and returns a one-element tuple, as mmpretrain's heads expect.

    Args:
        in_channels: channels of the pooled feature (the backbone's last stage).
        out_channels: embedding size.
        norm_cfg: normalisation after the projection (BN1d by default: the "linear + BN"
            embedding layer of the metric-learning literature); None for none.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 norm_cfg: Optional[dict] = dict(type='BN1d'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.fc = nn.Linear(in_channels, out_channels, bias=norm_cfg is None)
        self.norm = build_norm_layer(norm_cfg, out_channels)[1] if norm_cfg else nn.Identity()

    def forward(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]
                ) -> Tuple[torch.Tensor]:
        feature = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        if feature.dim() != 2 or feature.shape[1] != self.in_channels:
            raise ValueError(f'EmbeddingNeck expects pooled (N, {self.in_channels}) features, '
                             f'got {tuple(feature.shape)}: put GlobalAveragePooling before it '
                             'and set in_channels to the last stage width')
        return (F.normalize(self.norm(self.fc(feature)), dim=1), )
