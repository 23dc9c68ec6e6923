from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmpretrain.models.heads import ClsHead

from mmlow.registry import MODELS
from ..layers import fold_bn_into_linear


@MODELS.register_module()
class EfficientViTClsHead(ClsHead):
    """EfficientViT's (MSRA) ImageNet head: global average pool, BatchNorm1d, Linear.

    Kept so that classification checkpoints convert and load whole, and so that parameter counts
    can be compared with the papers (which count the head). ``switch_to_deploy`` folds the norm
    into the classifier.
    """

    def __init__(self,
                 num_classes: int = 1000,
                 in_channels: int = 384,
                 dropout: float = 0.,
                 init_cfg: Optional[dict] = dict(type='TruncNormal', layer='Linear', std=0.02),
                 **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        self.num_classes = num_classes
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.norm = nn.BatchNorm1d(in_channels)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(in_channels, num_classes)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return self.pool(feats[-1]).flatten(1)

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        x = self.pre_logits(feats)
        if self.norm is not None:
            x = self.norm(x)
        return self.fc(self.dropout(x))

    def switch_to_deploy(self) -> None:
        if self.norm is not None:
            self.fc = fold_bn_into_linear(self.norm, self.fc)
            self.norm = None
