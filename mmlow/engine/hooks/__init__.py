from .latency_hook import LatencyHook

__all__ = ['LatencyHook']
