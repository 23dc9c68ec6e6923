"""Strict loading of mmlow-layout weights, with an error that says what does not fit."""
from typing import Dict

import torch
import torch.nn as nn

from mmlow.errors import CheckpointError


class WeightsMismatchError(CheckpointError):
    """A state dict whose keys or shapes do not fit the model it is loaded into."""


def describe_mismatch(model: nn.Module, state_dict: Dict[str, torch.Tensor]) -> str:
    """'' when ``state_dict`` fits ``model`` exactly, else what is missing, extra or misshapen
    (a few keys of each named)."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    wrong_shape = [f'{k} (checkpoint {tuple(state_dict[k].shape)}, model '
                   f'{tuple(expected[k].shape)})'
                   for k in sorted(set(expected) & set(state_dict))
                   if state_dict[k].shape != expected[k].shape]
    return '; '.join(
        f'{len(items)} {title}: {", ".join(items[:3])}{", ..." if len(items) > 3 else ""}'
        for title, items in (('missing', missing), ('unexpected', unexpected),
                             ('mis-shaped', wrong_shape)) if items)


def load_strict(model: nn.Module, state_dict: Dict[str, torch.Tensor], what: str) -> None:
    """Load every tensor or raise a WeightsMismatchError describing what does not match."""
    mismatch = describe_mismatch(model, state_dict)
    if mismatch:
        raise WeightsMismatchError(f'{what} does not fit {type(model).__name__}: {mismatch}. '
                                   'Was it made for another architecture variant?')
    model.load_state_dict(state_dict, strict=True)
