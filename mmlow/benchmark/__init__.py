"""Measurement only: interleaved timing, latency records, the machine's matmul peak, config
benchmarks (pipeline), stage profiles and the tracker's per-frame step."""
from .record import RECORD_KEYS, latency_stats, make_record
from .synthetic import synthetic_batch
from .timing import time_interleaved

__all__ = ['RECORD_KEYS', 'latency_stats', 'make_record', 'synthetic_batch', 'time_interleaved']
