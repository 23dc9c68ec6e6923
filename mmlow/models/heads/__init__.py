from .efficientformer_head import EfficientFormerClsHead
from .efficientvit_head import EfficientViTClsHead
from .lowformer_head import LowFormerClsHead

__all__ = ['EfficientFormerClsHead', 'EfficientViTClsHead', 'LowFormerClsHead']
