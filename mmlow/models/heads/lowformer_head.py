from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer
from mmpretrain.models.heads import ClsHead

from mmlow.registry import MODELS
from ..layers import ConvNormAct


@MODELS.register_module()
class LowFormerClsHead(ClsHead):
    """LowFormer's ImageNet head: 1x1 conv widening, pooling, Linear+LayerNorm, classifier.

    Kept so that classification checkpoints convert and load whole, and so that parameter counts
    can be compared with the papers (which count the head).
    """

    def __init__(self,
                 num_classes: int = 1000,
                 in_channels: int = 256,
                 hidden_widths: Sequence[int] = (1536, 1600),
                 dropout: float = 0.,
                 act_cfg: dict = dict(type='HSwish'),
                 init_cfg: Optional[dict] = dict(type='TruncNormal', layer='Linear', std=0.02),
                 **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        self.num_classes = num_classes
        self.in_conv = ConvNormAct(in_channels, hidden_widths[0], 1, act_cfg=act_cfg)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc_hidden = nn.Linear(hidden_widths[0], hidden_widths[1], bias=False)
        self.norm = nn.LayerNorm(hidden_widths[1])
        self.act = build_activation_layer(act_cfg)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(hidden_widths[1], num_classes)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        x = self.pool(self.in_conv(feats[-1])).flatten(1)
        return self.act(self.norm(self.fc_hidden(x)))

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return self.fc(self.dropout(self.pre_logits(feats)))
