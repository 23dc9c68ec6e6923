from .efficientformer import EfficientFormer, EfficientFormerV2
from .efficientvit import EfficientViTMSRA
from .lowformer import LowFormer

__all__ = ['EfficientFormer', 'EfficientFormerV2', 'EfficientViTMSRA', 'LowFormer']
