"""The tracker deployed: its two branches built on a backend (the per-frame step is the search
branch with the target's template features cached as a constant, which is what a deployed
tracker runs on every frame), the two ONNX graphs, INT8 versions of them calibrated on crops of
the training pairs, and a tracking loop over ONNX Runtime or OpenVINO."""
import os
import os.path as osp
import random
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import DATASETS, DefaultScope

from mmlow.config import config_scope
from mmlow.models.tracking import CropTracker, SearchBranch, TemplateBranch
from .backends import build_backend
from .loading import build_model
from .quantize import (DEFAULT_CALIBRATION_IMAGES, KEEP_FLOAT, Calibration, quantize_onnx,
                       require_calibration)


class CachedTemplateSearch(nn.Module):
    """The per-frame graph: search crop -> score probabilities, offsets, sizes, for one
    target whose template features are fixed."""

    def __init__(self, tracker: nn.Module, template_feat: torch.Tensor):
        super().__init__()
        self.search_branch = SearchBranch(tracker)
        self.register_buffer('template_feat', template_feat.detach().clone())

    def forward(self, search: torch.Tensor):
        return self.search_branch(search, self.template_feat)


@dataclass(frozen=True)
class TrackerCalibration:
    """Template and search crops (BGR 0..255, as the tracker crops them) of training pairs."""

    templates: Tuple[torch.Tensor, ...]
    searches: Tuple[torch.Tensor, ...]
    source: str
    keep_float: Tuple[str, ...] = KEEP_FLOAT  # parts left in floating point (KEEP_FLOAT)

    def branch(self, which: str) -> Calibration:
        return Calibration(getattr(self, which), f'{which} crops of {self.source}',
                           self.keep_float)


def tracker_calibration(cfg: Config, model: nn.Module,
                        num_pairs: int = DEFAULT_CALIBRATION_IMAGES, seed: int = 0,
                        keep_float: Sequence[str] = KEEP_FLOAT) -> TrackerCalibration:
    """``num_pairs`` (template, search) pairs of the config's training pairs, cropped as the
    tracker crops at test time: the photometric and flip augmentations off, the search
    region's centre and scale jitter kept (at test time the target has moved from the
    previous box the crop is centred on)."""
    if num_pairs < 1:
        raise ValueError(f'calibration needs at least one pair, not {num_pairs}')
    dataset_cfg = dict(cfg.train_dataloader.dataset, brightness_jitter=0.0, grayscale_prob=0.0,
                       joint_flip_prob=0.0, flip_prob=0.0, seed=seed)
    with DefaultScope.overwrite_default_scope(config_scope(cfg)):
        dataset = DATASETS.build(dataset_cfg)
    indices = random.Random(seed).sample(range(len(dataset)), min(num_pairs, len(dataset)))
    pairs = [dataset[index]['inputs'] for index in indices]
    if pairs[0]['template'].shape[-1] != model.template_size or \
            pairs[0]['search'].shape[-1] != model.search_size:
        raise ValueError('the training pairs are cropped at other sizes than the model takes')
    return TrackerCalibration(
        tuple(pair['template'][None].float() for pair in pairs),
        tuple(pair['search'][None].float() for pair in pairs),
        f'{len(pairs)} training pairs of {osp.basename(cfg.filename or "")}',
        tuple(keep_float))


def build_tracker_steps(model: nn.Module, backend: str, precision: Optional[str] = None,
                        calibration: Optional[TrackerCalibration] = None, seed: int = 0):
    """The template step and the per-frame search step (with the template's features cached)
    built on ``backend``, and crops to run them on: (template_step, template, search_step,
    search). Random crops; at int8 the first calibration pair, each branch quantized on its
    crops of ``calibration``."""
    model.eval()
    template_calibration = search_calibration = None
    if precision == 'int8':
        require_calibration(calibration, backend)
        template, search = calibration.templates[0], calibration.searches[0]
        template_calibration = calibration.branch('templates')
        search_calibration = calibration.branch('searches')
    else:
        generator = torch.Generator().manual_seed(seed)
        template = torch.rand(1, 3, model.template_size, model.template_size,
                              generator=generator) * 255
        search = torch.rand(1, 3, model.search_size, model.search_size,
                            generator=generator) * 255
    with torch.no_grad():
        template_feat = model.template_features(template)
    template_step = build_backend(backend, TemplateBranch(model).eval(), template, precision,
                                  calibration=template_calibration)
    search_step = build_backend(backend, CachedTemplateSearch(model, template_feat).eval(),
                                search, precision, calibration=search_calibration)
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
def tracker_onnx_error(model, template_path: str, search_path: str, seed: int = 0,
                       backend: str = 'onnxruntime', precision: str = 'fp32',
                       crops: Optional[Tuple[torch.Tensor, torch.Tensor]] = None) -> float:
    """Largest absolute difference between the two graphs on ``backend``, chained as the
    tracker chains them, and eager PyTorch on ``crops`` (template, search; random ones from
    ``seed`` when not given), the score as probabilities."""
    if crops is None:
        gen = torch.Generator().manual_seed(seed)
        crops = (torch.rand(1, 3, model.template_size, model.template_size, generator=gen) * 255,
                 torch.rand(1, 3, model.search_size, model.search_size, generator=gen) * 255)
    template, search = crops
    feat = model.template_features(template)
    score, offset, size = model.search_forward(search, feat)
    graph_feat = _graph_runner(backend, template_path, precision)({'template': template.numpy()})[0]
    outputs = _graph_runner(backend, search_path, precision)(
        {'search': search.numpy(), 'template_feat': graph_feat})
    pairs = [(graph_feat, feat)] + list(zip(outputs, (score.sigmoid(), offset, size)))
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


def _graph_runner(backend: str, path: str, precision: str = 'fp32') -> Callable:
    """feeds (input name -> array) -> list of output arrays, on ONNX Runtime or OpenVINO."""
    if backend == 'onnxruntime':
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
        return lambda feeds: session.run(None, feeds)
    if backend == 'openvino':
        import openvino as ov
        core = ov.Core()
        compiled = core.compile_model(core.read_model(path), 'CPU', {
            'INFERENCE_PRECISION_HINT': 'f32' if precision == 'fp32' else 'bf16',
            'PERFORMANCE_HINT': 'LATENCY', 'INFERENCE_NUM_THREADS': torch.get_num_threads()})
        request = compiled.create_infer_request()

        def run(feeds):
            request.infer(feeds)
            return [request.get_output_tensor(i).data.copy()
                    for i in range(len(compiled.outputs))]
        return run
    raise ValueError(f'the exported tracker runs on onnxruntime or openvino, not {backend!r}')


def quantize_tracker_graphs(model, template_path: str, search_path: str, backend: str,
                            calibration: TrackerCalibration, out_dir: str) -> Tuple[str, str]:
    """INT8 versions of the two exported graphs for ``backend``, each calibrated on its crops of
    the training pairs (the search graph with the eager template features of its pair)."""
    with torch.no_grad():
        feats = [model.template_features(t).numpy() for t in calibration.templates]
    template_feeds = [{'template': t.numpy()} for t in calibration.templates]
    search_feeds = [{'search': s.numpy(), 'template_feat': f}
                    for s, f in zip(calibration.searches, feats)]
    return (quantize_onnx(backend, template_path, osp.join(out_dir, 'template_branch_int8.onnx'),
                          template_feeds, calibration.keep_float),
            quantize_onnx(backend, search_path, osp.join(out_dir, 'search_branch_int8.onnx'),
                          search_feeds, calibration.keep_float))


def onnx_crop_tracker(model, template_path: str, search_path: str,
                      backend: str = 'onnxruntime', precision: str = 'fp32') -> CropTracker:
    """The same tracking loop over the two graphs on ONNX Runtime or OpenVINO."""
    run_template = _graph_runner(backend, template_path, precision)
    run_search = _graph_runner(backend, search_path, precision)

    def template_fn(patch):
        return run_template({'template': patch})[0]

    def search_fn(patch, template_feat):
        return run_search({'search': patch, 'template_feat': template_feat})

    return CropTracker(template_fn, search_fn, model.template_size, model.search_size,
                       model.template_factor, model.search_factor)
