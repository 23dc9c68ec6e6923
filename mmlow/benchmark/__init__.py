from .timing import time_interleaved

__all__ = ['time_interleaved']
