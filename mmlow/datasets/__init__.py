from .dataset_wrappers import SeededDataset
from .retrieval import (CUBRetrieval, InShopRetrieval, RetrievalDataMissingError,
                        ShapesRetrieval, StanfordOnlineProducts)
from .samplers import SampleIndex, SeededInfiniteSampler, SeededSampler, derived_seed
from .shapes import CLASSES as SHAPES_CLASSES
from .shapes import ensure_shapes, generate_shapes
from .shapes_dataset import ShapesDataset, ShapesSegDataset
from .shapes_retrieval import ensure_shapes_retrieval
from . import tracking  # noqa: F401  (registers the tracking readers and datasets)

__all__ = [
    'CUBRetrieval', 'InShopRetrieval', 'RetrievalDataMissingError', 'SHAPES_CLASSES',
    'SampleIndex', 'SeededDataset', 'SeededInfiniteSampler', 'SeededSampler', 'ShapesDataset',
    'ShapesRetrieval', 'ShapesSegDataset', 'StanfordOnlineProducts', 'derived_seed',
    'ensure_shapes', 'ensure_shapes_retrieval', 'generate_shapes'
]
