"""File-to-file checkpoint conversion (tools/convert_checkpoint.py)."""
import io

import torch

from mmlow.converters import read_backbone_checkpoint
from mmlow.fileio import atomic_write
from mmlow.models.classifiers import build_classifier, split_name
from mmlow.models.weights import load_strict


def convert_file(src: str, dst: str, name: str) -> str:
    """Convert ``src`` to mmlow's layout for model ``name`` (e.g. ``lowformer_b1``), check that
    it loads, write ``dst``. Returns the detected source layout.

    Raises CheckpointError (unreadable file, unknown layout), WeightsMismatchError (weights of
    another variant) or ValueError (unknown name).
    """
    family, _ = split_name(name)
    state_dict, layout = read_backbone_checkpoint(src, family)
    fc_weight = state_dict.get('head.fc.weight')
    num_classes = fc_weight.shape[0] if fc_weight is not None else 1000
    model = build_classifier(name, num_classes)
    if not any(k.startswith('head.') for k in state_dict):
        model = model.backbone
        state_dict = {k[len('backbone.'):]: v for k, v in state_dict.items()}
        state_dict_to_save = {f'backbone.{k}': v for k, v in state_dict.items()}
    else:
        state_dict_to_save = state_dict
    load_strict(model, state_dict, f'{src!r} ({layout} layout)')
    buffer = io.BytesIO()
    torch.save({'state_dict': state_dict_to_save,
                'meta': {'arch': name, 'source_layout': layout, 'converter': 'mmlow'}}, buffer)
    atomic_write(buffer.getvalue(), dst)
    return layout
