"""Deployment: the backends (one BackendSpec each, every build checked against eager), the
backend model that runs an mmengine model's tensor forward on one, ONNX export, the dense-head
top-k preselection, and the model loader the deployment and measurement tools share."""
from .backend_model import BackendModel
from .backends import (BACKENDS, BackendUnavailableError, OutputMismatchError,
                       available_backends, build_backend, check_backend, deploy_copy,
                       export_onnx)

__all__ = [
    'BACKENDS', 'BackendModel', 'BackendUnavailableError', 'OutputMismatchError',
    'available_backends', 'build_backend', 'check_backend', 'deploy_copy', 'export_onnx'
]
