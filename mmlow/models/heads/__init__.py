from .efficientformer_head import EfficientFormerNormClsHead
from .efficientvit_head import EfficientViTClsHead
from .lowformer_head import LowFormerClsHead

__all__ = ['EfficientFormerNormClsHead', 'EfficientViTClsHead', 'LowFormerClsHead']
