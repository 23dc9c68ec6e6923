"""A neck that does not take what the backbone gives fails at the first iteration with a bare
channel mismatch deep in a convolution; checked when the model is built, the error says which
setting to change."""
import copy

import torch
import torch.nn as nn

from mmlow.errors import ConfigError


def backbone_out_channels(backbone: nn.Module, size: int = 64) -> list:
    """The channels of each map the backbone returns, from a forward on the meta device."""
    meta = copy.deepcopy(backbone).to('meta').eval()
    with torch.no_grad():
        outputs = meta(torch.empty(1, 3, size, size, device='meta'))
    if torch.is_tensor(outputs):
        outputs = [outputs]
    return [output.shape[1] for output in outputs]


def check_neck_fits_backbone(model: nn.Module) -> None:
    """Raise ConfigError when ``model.neck.in_channels`` is not what ``model.backbone`` gives
    at its ``out_indices``."""
    backbone, neck = getattr(model, 'backbone', None), getattr(model, 'neck', None)
    if isinstance(neck, nn.Sequential):
        neck = neck[0]
    expected = getattr(neck, 'in_channels', None)
    if backbone is None or not isinstance(expected, (list, tuple)):
        return
    given = backbone_out_channels(backbone)
    if list(given) != list(expected):
        out_indices = getattr(backbone, 'out_indices', None)
        raise ConfigError(
            f'the neck takes {len(expected)} maps of {list(expected)} channels, but the '
            f'backbone ({type(backbone).__name__}, out_indices={tuple(out_indices or ())}) '
            f'gives {len(given)} of {given}: set model.neck.in_channels={given} or change '
            'model.backbone.out_indices back')
