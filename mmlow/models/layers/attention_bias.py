"""Learned attention bias over relative token offsets, usable at any token-grid size.

LeViT-style models (EfficientFormer V1/V2, EfficientViT-MSRA) learn, per head, one bias for each
absolute offset ``(|dy|, |dx|)`` between a query and a key token, stored as a table of
``num_heads x (R_h * R_w)`` entries (offset ``(dy, dx)`` at ``dy * R_w + dx``) for the token grid
``R_h x R_w`` seen in training. The reference code gathers a fixed ``(N, N)`` bias from it, which
ties the model to one input size.
"""
import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

Size = Union[int, Sequence[int]]


def _pair(size: Size) -> Tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def relative_offset_index(key_size: Size, query_stride: int = 1,
                          device: Optional[torch.device] = None) -> torch.Tensor:
    """``(N_q, N_k)`` index of each query/key pair's ``(|dy|, |dx|)`` offset in a bias table.

    Keys cover the ``key_size`` grid; queries sit on every ``query_stride``-th key position
    (rows 0, s, 2s, ...), as in a stride-2 attention downsample. The table is laid out for
    ``key_size``, i.e. offset ``(dy, dx)`` lives at ``dy * key_w + dx``.
    """
    key_h, key_w = _pair(key_size)
    key_y, key_x = torch.meshgrid(torch.arange(key_h, device=device),
                                  torch.arange(key_w, device=device), indexing='ij')
    query_y, query_x = torch.meshgrid(torch.arange(0, key_h, query_stride, device=device),
                                      torch.arange(0, key_w, query_stride, device=device),
                                      indexing='ij')
    offset_y = (query_y.reshape(-1, 1) - key_y.reshape(1, -1)).abs()
    offset_x = (query_x.reshape(-1, 1) - key_x.reshape(1, -1)).abs()
    return offset_y * key_w + offset_x


def clamped_offset_index(grid: Size, table_size: int,
                         device: Optional[torch.device] = None) -> torch.Tensor:
    """``(N, N)`` bias-table index of every token pair of a ``grid`` for a table learned on
    ``table_size x table_size`` windows: offsets the table has keep their learned bias, larger
    ones read the farthest learned offset (so a window grown beyond the trained one attends
    with the trained biases at short range)."""
    height, width = _pair(grid)
    ys, xs = torch.meshgrid(torch.arange(height, device=device),
                            torch.arange(width, device=device), indexing='ij')
    ys, xs = ys.reshape(-1), xs.reshape(-1)
    offset_y = (ys[:, None] - ys[None, :]).abs().clamp(max=table_size - 1)
    offset_x = (xs[:, None] - xs[None, :]).abs().clamp(max=table_size - 1)
    return offset_y * table_size + offset_x


def resize_offset_bias_table(table: torch.Tensor, src_size: Size,
                             dst_size: Size) -> torch.Tensor:
    """Resample a ``(heads, src_h * src_w)`` offset-bias table to ``dst_size`` offsets.

    Method: the table is, per head, a 2D map ``B(|dy|, |dx|)`` over non-negative offsets, i.e.
    an even function of the signed offset. It is mirrored into the full signed map over
    ``[-(h-1), h-1] x [-(w-1), w-1]``, resized bicubically with ``align_corners=True`` to
    ``(2 * dst_h - 1, 2 * dst_w - 1)`` and its non-negative quadrant is kept. Hence:

    * offsets scale with the grid: offset ``d`` of the new grid reads the learned bias at
      ``d * (src - 1) / (dst - 1)``, so "self" (0) and "across the whole map" (max offset)
      keep exactly their learned values, as when ViT position embeddings are resized;
    * bicubic sees the true (mirrored) neighbourhood around offset 0 instead of a clamped
      border, and the result stays an even function of the offset;
    * interpolating this 2D offset map keeps the geometry, unlike resizing the gathered
      ``(N, N)`` matrix as an image (the official detection code), which blends biases of
      tokens that are neighbours only in the flattened row-major order.

    Gradients flow back to ``table``, so fine-tuning at a new size trains the learned table.
    """
    src_h, src_w = _pair(src_size)
    dst_h, dst_w = _pair(dst_size)
    heads = table.shape[0]
    grid = table.reshape(1, heads, src_h, src_w)
    # a one-token axis needs only offset 0; align_corners with one output would sample the end
    if dst_h == 1:
        grid = grid[:, :, :1]
    if dst_w == 1:
        grid = grid[..., :1]
    signed = torch.cat([grid.flip(2)[:, :, :-1], grid], dim=2)
    signed = torch.cat([signed.flip(3)[..., :-1], signed], dim=3)
    resized = F.interpolate(signed, size=(2 * dst_h - 1, 2 * dst_w - 1), mode='bicubic',
                            align_corners=True)
    return resized[0, :, dst_h - 1:, dst_w - 1:].reshape(heads, dst_h * dst_w)


class RelativePositionBias(nn.Module):
    """Per-head learned bias of a query/key pair's ``(|dy|, |dx|)`` offset, for any grid size.

    Args:
        num_heads: attention heads.
        resolution: the key-token grid the table was learned on (e.g. 7 for 224 inputs at
            stride 32).
        query_stride: queries sit on every ``query_stride``-th key position (2 for attention
            that downsamples, 1 otherwise).

    ``forward(key_size)`` returns the ``(num_heads, N_q, N_k)`` bias. At the training grid it is
    the reference gather ``table[:, index]``, bit for bit; at any other grid the table is first
    resized by :func:`resize_offset_bias_table` (see there for the method).
    """

    def __init__(self, num_heads: int, resolution: Size, query_stride: int = 1):
        super().__init__()
        self.resolution = _pair(resolution)
        self.query_stride = query_stride
        self.table = nn.Parameter(torch.zeros(num_heads, math.prod(self.resolution)))
        # derived from `resolution`; not saved, so checkpoints hold only the learned table
        self.register_buffer('index', relative_offset_index(self.resolution, query_stride),
                             persistent=False)

    def forward(self, key_size: Size) -> torch.Tensor:
        key_size = _pair(key_size)
        if key_size == self.resolution:
            return self.table[:, self.index]
        table = resize_offset_bias_table(self.table, self.resolution, key_size)
        index = relative_offset_index(key_size, self.query_stride, device=table.device)
        return table[:, index]

    def extra_repr(self) -> str:
        return (f'num_heads={self.table.shape[0]}, resolution={self.resolution}, '
                f'query_stride={self.query_stride}')
