from .retrieval import (CUBRetrieval, InShopRetrieval, RetrievalDataMissingError,
                        ShapesRetrieval, StanfordOnlineProducts)
from .shapes import CLASSES as SHAPES_CLASSES
from .shapes import ensure_shapes, generate_shapes
from .shapes_dataset import ShapesDataset, ShapesSegDataset
from .shapes_retrieval import ensure_shapes_retrieval
from . import tracking  # noqa: F401  (registers the tracking readers and datasets)
from .validation import install as _install_validation

_install_validation()

__all__ = [
    'CUBRetrieval', 'InShopRetrieval', 'RetrievalDataMissingError', 'SHAPES_CLASSES',
    'ShapesDataset', 'ShapesRetrieval', 'ShapesSegDataset', 'StanfordOnlineProducts',
    'ensure_shapes', 'ensure_shapes_retrieval', 'generate_shapes'
]
