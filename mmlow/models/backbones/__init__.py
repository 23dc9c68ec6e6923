from .lowformer import LowFormer

__all__ = ['LowFormer']
