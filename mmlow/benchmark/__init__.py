from .backend_model import BackendModel
from .backends import (BACKENDS, BackendUnavailableError, OutputMismatchError,
                       available_backends, build_backend, check_backend, deploy_copy,
                       export_onnx)
from .record import RECORD_KEYS, latency_stats, make_record
from .synthetic import synthetic_batch
from .timing import time_interleaved

__all__ = [
    'BACKENDS', 'RECORD_KEYS', 'BackendModel', 'BackendUnavailableError', 'OutputMismatchError',
    'available_backends', 'build_backend', 'check_backend', 'deploy_copy', 'export_onnx',
    'latency_stats', 'make_record', 'synthetic_batch', 'time_interleaved'
]
