"""The inference API a user calls: one checkpoint loader for every task (weights-only, checked
against the model), retrieval (retrieval) and tracking (tracking)."""
from mmlow.checkpoint import (check_checkpoint_fits, guess_arch, load_checkpoint,
                              read_checkpoint)

__all__ = ['check_checkpoint_fits', 'guess_arch', 'load_checkpoint', 'read_checkpoint']
