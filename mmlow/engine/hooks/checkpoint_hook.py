from typing import Optional

from mmengine.hooks import CheckpointHook
from mmengine.logging import HistoryBuffer

from mmlow.compat import SafeHistoryBuffer
from mmlow.fileio import ATOMIC
from mmlow.registry import HOOKS


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's CheckpointHook whose checkpoints are written whole or not at all (through
    the ``mmlow_atomic`` file backend unless ``backend_args`` names another) and load with
    ``weights_only`` (the message hub's buffers saved without their statistics functions)."""

    def __init__(self, *args, backend_args: Optional[dict] = None,
                 file_client_args: Optional[dict] = None, **kwargs):
        if backend_args is None and file_client_args is None:
            backend_args = ATOMIC
        super().__init__(*args, backend_args=backend_args, file_client_args=file_client_args,
                         **kwargs)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        scalars = checkpoint.get('message_hub', {}).get('log_scalars', {})
        for key, buffer in scalars.items():
            if isinstance(buffer, HistoryBuffer):
                scalars[key] = SafeHistoryBuffer.of(buffer)
