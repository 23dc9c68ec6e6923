import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer
from typing import Optional


class ConvMlp(nn.Module):
    """Channel MLP on NCHW maps with 1x1 convs, optionally pre-normalised."""

    def __init__(self,
                 channels: int,
                 hidden_channels: int,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: dict = dict(type='GELU'),
                 drop: float = 0.):
        super().__init__()
        self.norm = build_norm_layer(norm_cfg, channels)[1] if norm_cfg else None
        self.fc1 = nn.Conv2d(channels, hidden_channels, 1)
        self.act = build_activation_layer(act_cfg)
        self.fc2 = nn.Conv2d(hidden_channels, channels, 1)
        self.drop = nn.Dropout(drop) if drop > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm is not None:
            x = self.norm(x)
        return self.drop(self.fc2(self.act(self.fc1(x))))
