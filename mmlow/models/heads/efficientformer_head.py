from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmpretrain.models.heads import ClsHead

from mmlow.registry import MODELS


@MODELS.register_module()
class EfficientFormerNormClsHead(ClsHead):
    """EfficientFormer / EfficientFormerV2 ImageNet head: norm, global average, two classifiers.

    V1 normalises each token with LayerNorm (``norm_cfg=dict(type='LN')``), V2 the map with
    BatchNorm (``dict(type='BN')``); both pool after the norm. The released models were trained
    with DeiT-style distillation and carry a second classifier (``fc_dist``); the output is the
    mean of the two, their inference output. Trained with this head, the mean is what the loss
    sees, as in the reference when its distillation mode is off.
    Kept so that classification checkpoints convert and load whole, and so that parameter counts
    can be compared with the papers (which count the head).
    """

    def __init__(self,
                 num_classes: int = 1000,
                 in_channels: int = 448,
                 norm_cfg: dict = dict(type='LN'),
                 distillation: bool = True,
                 dropout: float = 0.,
                 init_cfg: Optional[dict] = dict(type='TruncNormal', layer='Linear', std=0.02),
                 **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        self.num_classes = num_classes
        self.norm = build_norm_layer(norm_cfg, in_channels)[1]
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(in_channels, num_classes)
        self.fc_dist = nn.Linear(in_channels, num_classes) if distillation else None

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        x = feats[-1]
        if isinstance(self.norm, nn.LayerNorm):
            # LayerNorm normalises the channels of each token
            return self.norm(x.flatten(2).transpose(1, 2)).mean(dim=1)
        return self.norm(x).mean(dim=(2, 3))

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        x = self.dropout(self.pre_logits(feats))
        logits = self.fc(x)
        if self.fc_dist is None:
            return logits
        return (logits + self.fc_dist(x)) / 2
