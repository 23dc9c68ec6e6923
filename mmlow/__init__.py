"""mmlow: efficient hybrid backbones (LowFormer, EfficientViT, EfficientFormer) for OpenMMLab."""
from . import compat

compat.apply()

from . import converters, datasets, engine, evaluation, models  # noqa: E402,F401  (registers everything)

__version__ = '0.1.0'
