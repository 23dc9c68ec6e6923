from .efficientformer import EfficientFormer
from .efficientformer_v2 import EfficientFormerV2
from .efficientvit import EfficientViTMSRA
from .lowformer import LowFormer

__all__ = ['EfficientFormer', 'EfficientFormerV2', 'EfficientViTMSRA', 'LowFormer']
