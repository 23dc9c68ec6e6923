"""A batch as a test dataloader hands it to ``model.test_step``: uint8 images already resized
to the benchmark's input size, and data samples with the meta information the task's
post-processing reads."""
from typing import Tuple

import torch


def _data_sample(scope: str, height: int, width: int):
    shape = (height, width)
    if scope == 'mmdet':
        from mmdet.structures import DetDataSample
        return DetDataSample(metainfo=dict(img_shape=shape, ori_shape=shape,
                                           scale_factor=(1., 1.)))
    if scope == 'mmseg':
        from mmseg.structures import SegDataSample
        return SegDataSample(metainfo=dict(img_shape=shape, ori_shape=shape))
    if scope == 'mmpretrain':
        from mmpretrain.structures import DataSample
        return DataSample(metainfo=dict(img_shape=shape, ori_shape=shape))
    raise ValueError(f'no synthetic data samples for scope {scope!r}')


def synthetic_batch(scope: str, shape: Tuple[int, int], batch_size: int,
                    seed: int = 0) -> dict:
    """``batch_size`` random images of ``shape`` (H, W) for a model of ``scope``."""
    height, width = shape
    generator = torch.Generator().manual_seed(seed)
    return dict(
        inputs=[torch.randint(0, 256, (3, height, width), dtype=torch.uint8,
                              generator=generator) for _ in range(batch_size)],
        data_samples=[_data_sample(scope, height, width) for _ in range(batch_size)])
