from .efficientvit_fpn import EfficientViTFPN

__all__ = ['EfficientViTFPN']
