from .hooks import LatencyHook

__all__ = ['LatencyHook']
