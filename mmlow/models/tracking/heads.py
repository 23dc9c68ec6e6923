"""Neck and centre head of the one-stream tracker (LowFormer-Track / SMAT layout)."""
import torch
import torch.nn as nn

from mmlow.registry import MODELS
from ..backbones.lowformer import LowFormerBlock
from ..layers import ConvNormAct


@MODELS.register_module()
class PixelwiseCorrelationNeck(nn.Module):
    """BN adjust, pixel-wise cross-correlation, channel attention, projection to head width
    (LowFormer-Track's ``BN_PWXCORR`` neck).

    Every template token is a 1x1 kernel correlated with the search map, so the output has one
    channel per template token (49 for a 7x7 template grid); a squeeze-excitation without
    reduction weighs them, a 1x1 conv brings them to the head's width.
    """

    def __init__(self, in_channels: int, num_template_tokens: int, out_channels: int):
        super().__init__()
        self.search_norm = nn.BatchNorm2d(in_channels)
        self.template_norm = nn.BatchNorm2d(in_channels)
        self.num_template_tokens = num_template_tokens
        self.channel_attention = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(num_template_tokens, num_template_tokens, 1),
            nn.ReLU(inplace=True), nn.Conv2d(num_template_tokens, num_template_tokens, 1),
            nn.Sigmoid())
        self.project = nn.Conv2d(num_template_tokens, out_channels, 1)

    def forward(self, search: torch.Tensor, template: torch.Tensor) -> torch.Tensor:
        search, template = self.search_norm(search), self.template_norm(template)
        batch, channels, height, width = search.shape
        kernels = template.flatten(2)
        if kernels.shape[-1] != self.num_template_tokens:
            raise ValueError(f'the neck was built for {self.num_template_tokens} template '
                             f'tokens but got a {tuple(template.shape[-2:])} template map; '
                             'the template size does not match the config')
        corr = torch.einsum('bck,bcn->bkn', kernels, search.flatten(2))
        corr = corr.reshape(batch, -1, height, width)
        return self.project(corr * self.channel_attention(corr))


class SeparableConvReLUBN(nn.Module):
    """Depthwise 3x3 (bias), ReLU, pointwise 1x1 (bias), ReLU, then BN: the reference's
    separable tower layer, normalised after the activation (so the BN folds into no conv;
    it is kept apart from the convs, where BN-folding passes cannot mistake it for theirs)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.separable = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels),
            nn.ReLU(inplace=True), nn.Conv2d(in_channels, out_channels, 1),
            nn.ReLU(inplace=True))
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.separable(x))


def _tower(in_channels: int, out_channels: int, depth: int) -> nn.Sequential:
    """``depth`` separable layers (the first keeps the width, each later one halves it), then
    a 1x1 output conv."""
    layers, channels = [], in_channels
    for index in range(depth):
        width = channels if index == 0 else max(channels // 2, 8)
        layers.append(SeparableConvReLUBN(channels, width))
        channels = width
    layers.append(nn.Conv2d(channels, out_channels, 1))
    return nn.Sequential(*layers)


@MODELS.register_module()
class CenterTrackingHead(nn.Module):
    """LowFormer-Track's centre head: per branch a 3x3 Conv-BN-ReLU, then LowFormer blocks
    (stride-2 attention, as in the backbone's stride-16 stage); separable conv towers give a
    centre score map (logits), sub-cell offsets (unbounded: the target cell is the rounded
    centre, so an offset may be negative) and box sizes (sigmoid, a fraction of the crop)."""

    def __init__(self, in_channels: int, num_box_blocks: int = 4, num_score_blocks: int = 2,
                 tower_depth: int = 3):
        super().__init__()

        def branch(count):
            return nn.Sequential(
                ConvNormAct(in_channels, in_channels, 3, act_cfg=dict(type='ReLU')),
                *[LowFormerBlock(in_channels, attn_stride=2) for _ in range(count)])

        self.box_blocks = branch(num_box_blocks)
        self.score_blocks = branch(num_score_blocks)
        self.score_tower = _tower(in_channels, 1, tower_depth)
        self.offset_tower = _tower(in_channels, 2, tower_depth)
        self.size_tower = _tower(in_channels, 2, tower_depth)

    def forward(self, x: torch.Tensor):
        box_feat = self.box_blocks(x)
        score = self.score_tower(self.score_blocks(x))
        return score, self.offset_tower(box_feat), self.size_tower(box_feat).sigmoid()


def decode_boxes(score: torch.Tensor, offset: torch.Tensor, size: torch.Tensor,
                 index: torch.Tensor = None) -> torch.Tensor:
    """Normalised ``(cx, cy, w, h)`` boxes at the best cell of ``score`` (or at ``index``,
    a flat cell index per sample)."""
    batch, _, height, width = score.shape
    if index is None:
        index = score.flatten(1).argmax(dim=1)
    gather = index.view(batch, 1, 1).expand(batch, 2, 1)
    cell_offset = offset.flatten(2).gather(2, gather).squeeze(2)
    cell_size = size.flatten(2).gather(2, gather).squeeze(2)
    cx = ((index % width).to(offset.dtype) + cell_offset[:, 0]) / width
    cy = (torch.div(index, width, rounding_mode='floor').to(offset.dtype) +
          cell_offset[:, 1]) / height
    return torch.stack([cx, cy, cell_size[:, 0], cell_size[:, 1]], dim=1)
