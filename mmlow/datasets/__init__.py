from .shapes import CLASSES as SHAPES_CLASSES
from .shapes import ensure_shapes, generate_shapes
from .shapes_dataset import ShapesDataset, ShapesSegDataset
from . import tracking  # noqa: F401  (registers the tracking readers and datasets)
from .validation import install as _install_validation

_install_validation()

__all__ = [
    'SHAPES_CLASSES', 'ShapesDataset', 'ShapesSegDataset', 'ensure_shapes', 'generate_shapes'
]
