from typing import Optional

from mmdet.datasets import CocoDataset

from mmlow.registry import DATASETS
from .shapes import CLASSES, ensure_shapes


@DATASETS.register_module()
class ShapesDataset(CocoDataset):
    """The synthetic shapes data as a COCO dataset, generated under ``data_root`` if missing.

    Args:
        generator: parameters of :func:`mmlow.datasets.shapes.ensure_shapes`
            (num_train, num_val, img_size, seed); defaults make the demo set.
    """
    METAINFO = dict(classes=CLASSES,
                    palette=[(220, 20, 60), (0, 130, 200), (60, 180, 75)])
    # tools skip their "is the data there?" check for datasets that make their own data
    self_generating = True

    def __init__(self, *args, data_root: str = 'data/shapes/',
                 generator: Optional[dict] = None, **kwargs):
        ensure_shapes(data_root, **(generator or {}))
        super().__init__(*args, data_root=data_root, **kwargs)
