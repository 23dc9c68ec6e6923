from .shapes import CLASSES as SHAPES_CLASSES
from .shapes import ensure_shapes, generate_shapes
from .shapes_dataset import ShapesDataset

__all__ = ['SHAPES_CLASSES', 'ShapesDataset', 'ensure_shapes', 'generate_shapes']
