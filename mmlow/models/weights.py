"""Strict loading of mmlow-layout weights, with an error that says what does not fit."""
from typing import Dict

import torch
import torch.nn as nn


class WeightsMismatchError(ValueError):
    """A state dict whose keys or shapes do not fit the model it is loaded into."""


def describe_mismatch(model: nn.Module, state_dict: Dict[str, torch.Tensor]) -> str:
    """'' when ``state_dict`` fits ``model`` exactly, else what is missing, extra or misshapen."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    wrong_shape = [f'{k}: checkpoint {tuple(state_dict[k].shape)} vs model '
                   f'{tuple(expected[k].shape)}'
                   for k in sorted(set(expected) & set(state_dict))
                   if state_dict[k].shape != expected[k].shape]
    parts = []
    for title, items in (('missing', missing), ('unexpected', unexpected),
                         ('shape mismatch', wrong_shape)):
        if items:
            parts.append(f'{len(items)} {title} (e.g. {"; ".join(items[:3])})')
    return ', '.join(parts)


def load_strict(model: nn.Module, state_dict: Dict[str, torch.Tensor], what: str) -> None:
    """Load every tensor or raise a WeightsMismatchError describing what does not match."""
    mismatch = describe_mismatch(model, state_dict)
    if mismatch:
        raise WeightsMismatchError(f'{what} does not fit {type(model).__name__}: {mismatch}. '
                                   'Was it made for another architecture variant?')
    model.load_state_dict(state_dict, strict=True)
