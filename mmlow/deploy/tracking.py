"""The tracker deployed: its two branches built on a backend (the per-frame step is the search
branch with the target's template features cached as a constant, which is what a deployed
tracker runs on every frame), the two ONNX graphs and a tracking loop over ONNX Runtime."""
import os
import os.path as osp
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config

from mmlow.models.tracking import CropTracker, SearchBranch, TemplateBranch
from .backends import build_backend
from .loading import build_model


class CachedTemplateSearch(nn.Module):
    """The per-frame graph: search crop -> score probabilities, offsets, sizes, for one
    target whose template features are fixed."""

    def __init__(self, tracker: nn.Module, template_feat: torch.Tensor):
        super().__init__()
        self.search_branch = SearchBranch(tracker)
        self.register_buffer('template_feat', template_feat.detach().clone())

    def forward(self, search: torch.Tensor):
        return self.search_branch(search, self.template_feat)


def build_tracker_steps(model: nn.Module, backend: str, precision: Optional[str] = None,
                        seed: int = 0):
    """The template step and the per-frame search step (with the template's features cached)
    built on ``backend``, and random crops to run them on: (template_step, template,
    search_step, search)."""
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    template = torch.rand(1, 3, model.template_size, model.template_size,
                          generator=generator) * 255
    search = torch.rand(1, 3, model.search_size, model.search_size, generator=generator) * 255
    with torch.no_grad():
        template_feat = model.template_features(template)
    template_step = build_backend(backend, TemplateBranch(model).eval(), template, precision)
    search_step = build_backend(backend, CachedTemplateSearch(model, template_feat).eval(),
                                search, precision)
    return template_step, template, search_step, search


def export_tracker_onnx(model, out_dir: str, opset: int = 17) -> Tuple[str, str]:
    """Two graphs: template branch (crop -> features) and search branch (crop + features ->
    score probabilities, offsets, sizes). Inputs are BGR 0..255 float crops."""
    os.makedirs(out_dir, exist_ok=True)
    model.eval()
    template = torch.rand(1, 3, model.template_size, model.template_size) * 255
    search = torch.rand(1, 3, model.search_size, model.search_size) * 255
    template_path = osp.join(out_dir, 'template_branch.onnx')
    search_path = osp.join(out_dir, 'search_branch.onnx')
    with torch.no_grad():
        template_feat = model.template_features(template)
        # eval() on the wrappers too: the exporter restores the wrapper's mode afterwards, and
        # a fresh wrapper is in training mode, which would switch the tracker to it
        torch.onnx.export(TemplateBranch(model).eval(), (template, ), template_path,
                          input_names=['template'], output_names=['template_feat'],
                          opset_version=opset, dynamo=False)
        torch.onnx.export(SearchBranch(model).eval(), (search, template_feat), search_path,
                          input_names=['search', 'template_feat'],
                          output_names=['score', 'offset', 'size'], opset_version=opset,
                          dynamo=False)
    return template_path, search_path


@torch.no_grad()
def tracker_onnx_error(model, template_path: str, search_path: str, seed: int = 0) -> float:
    """Largest absolute difference between the two ONNX Runtime graphs, chained as the
    tracker chains them, and eager PyTorch on random crops (score as probabilities)."""
    import onnxruntime as ort
    gen = torch.Generator().manual_seed(seed)
    template = torch.rand(1, 3, model.template_size, model.template_size, generator=gen) * 255
    search = torch.rand(1, 3, model.search_size, model.search_size, generator=gen) * 255
    feat = model.template_features(template)
    score, offset, size = model.search_forward(search, feat)
    sessions = [ort.InferenceSession(path, providers=['CPUExecutionProvider'])
                for path in (template_path, search_path)]
    onnx_feat = sessions[0].run(None, {'template': template.numpy()})[0]
    outputs = sessions[1].run(None, {'search': search.numpy(), 'template_feat': onnx_feat})
    pairs = [(onnx_feat, feat)] + list(zip(outputs, (score.sigmoid(), offset, size)))
    return max(float(np.abs(ours - eager.numpy()).max()) for ours, eager in pairs)


def export_tracker(cfg: Config, checkpoint: Optional[str], out_dir: str,
                   opset: int = 17) -> Tuple[str, float]:
    """tools/export_onnx.py for tracking configs: the two graphs in ``out_dir``; returns the
    report and ONNX Runtime's largest absolute error against eager."""
    model = build_model(cfg, checkpoint)
    template_path, search_path = export_tracker_onnx(model, out_dir, opset)
    error = tracker_onnx_error(model, template_path, search_path)
    return (f'wrote {template_path} (template crop {model.template_size} px -> features) and '
            f'{search_path} (search crop {model.search_size} px + features -> score, offset, '
            f'size), opset {opset}\n  ONNX Runtime vs eager PyTorch: max absolute error '
            f'{error:.2e}'), error


def onnx_crop_tracker(model, template_path: str, search_path: str) -> CropTracker:
    """The same tracking loop over ONNX Runtime sessions of the two graphs."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    template_session = ort.InferenceSession(template_path, options,
                                            providers=['CPUExecutionProvider'])
    search_session = ort.InferenceSession(search_path, options,
                                          providers=['CPUExecutionProvider'])

    def template_fn(patch):
        return template_session.run(None, {'template': patch})[0]

    def search_fn(patch, template_feat):
        return search_session.run(None, {'search': patch, 'template_feat': template_feat})

    return CropTracker(template_fn, search_fn, model.template_size, model.search_size,
                       model.template_factor, model.search_factor)
