from .lowformer_head import LowFormerClsHead

__all__ = ['LowFormerClsHead']
