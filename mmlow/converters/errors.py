from mmlow.errors import CheckpointError

__all__ = ['CheckpointError']
