from typing import Optional

from mmdet.datasets import CocoDataset
from mmseg.datasets import BaseSegDataset

from mmlow.registry import DATASETS
from .shapes import CLASSES, ensure_shapes
from .validation import NamedDataErrors, check_corrupt_image_policy, set_corrupt_image_policy

PALETTE = [(220, 20, 60), (0, 130, 200), (60, 180, 75)]


@DATASETS.register_module()
class ShapesDataset(NamedDataErrors, CocoDataset):
    """The synthetic shapes data as a COCO dataset, generated under ``data_root`` if missing.

    Args:
        generator: parameters of :func:`mmlow.datasets.shapes.ensure_shapes`
            (num_train, num_val, img_size, seed, size_range); defaults make the demo set.
        corrupt_images: 'error' (default) stops at an unreadable image naming it; 'skip'
            leaves such images out of training with a warning and counts them.
    """
    METAINFO = dict(classes=CLASSES, palette=PALETTE)
    # tools skip their "is the data there?" check for datasets that make their own data
    self_generating = True

    def __init__(self, *args, data_root: str = 'data/shapes/',
                 generator: Optional[dict] = None, corrupt_images: str = 'error', **kwargs):
        check_corrupt_image_policy(corrupt_images)  # before any generating or loading
        ensure_shapes(data_root, **(generator or {}))
        super().__init__(*args, data_root=data_root, **kwargs)
        set_corrupt_image_policy(self, corrupt_images)


@DATASETS.register_module()
class ShapesSegDataset(NamedDataErrors, BaseSegDataset):
    """The shapes data as an ADE20K-style semantic segmentation dataset.

    Label maps are uint8 PNGs beside the images (``semantic/{split}/``) holding 0 for the
    background and 1 + the class index for each shape. Unlike ADE20K's unlabelled 0, the
    background here is a real class: it is scored, so a model cannot gain mIoU by painting
    shapes everywhere. ``corrupt_images`` as for :class:`ShapesDataset`.
    """
    METAINFO = dict(classes=('background', ) + CLASSES, palette=[(0, 0, 0)] + PALETTE)
    self_generating = True

    def __init__(self, data_root: str = 'data/shapes/', generator: Optional[dict] = None,
                 corrupt_images: str = 'error', **kwargs):
        check_corrupt_image_policy(corrupt_images)
        ensure_shapes(data_root, **(generator or {}))
        kwargs.setdefault('img_suffix', '.png')
        kwargs.setdefault('seg_map_suffix', '.png')
        super().__init__(data_root=data_root, reduce_zero_label=False, **kwargs)
        set_corrupt_image_policy(self, corrupt_images)
