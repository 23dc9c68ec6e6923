"""The inference API a user calls: ``init_model`` for every task (one checkpoint loader:
weights-only, checked against the model), retrieval (mmlow.apis.retrieval) and tracking
(mmlow.apis.tracking)."""
from mmlow.checkpoint import (check_checkpoint_fits, guess_arch, load_checkpoint,
                              read_checkpoint)
from .inference import init_model

__all__ = ['check_checkpoint_fits', 'guess_arch', 'init_model', 'load_checkpoint',
           'read_checkpoint']
