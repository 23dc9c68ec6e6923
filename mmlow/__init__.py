"""mmlow: efficient hybrid backbones (LowFormer, EfficientViT, EfficientFormer) for OpenMMLab."""
from . import compat

compat.apply()

# registers everything
from . import converters, datasets, engine, evaluation, models  # noqa: E402,F401

__version__ = '0.1.0'
