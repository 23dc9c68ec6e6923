class CheckpointError(ValueError):
    """A checkpoint that cannot be used as asked; the message says why and what to do."""
