"""Where the time of one end-to-end inference goes: preprocessing, backbone, neck, head and
post-processing of a single-stage detector or a segmenter (tools/analysis/profile_stages.py,
and the LatencyHook's record).

On eager PyTorch each stage is timed where the model calls it: the data preprocessor, the
backbone's and neck's forward, the head's forward, and the post-processing (the head's
``predict_by_feat``: score filter, NMS, box decoding or logit resizing; and a segmenter's
``postprocess_result``). On a backend (mmlow.deploy.BackendModel) backbone, neck and head
run as one graph, timed as ``network``. What no stage covers (the step's glue: building data
samples, Python calls) is ``other``, so that the stages and ``other`` add up to the step.
Each network stage also gets its MACs and the GFLOP/s it achieved, beside the machine's matmul
peak: a stage near the peak can only get faster by doing less work.
"""
import time
from typing import Callable, Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn

from mmlow.analysis import count_macs
from mmlow.deploy.backend_model import BackendModel
from mmlow.deploy.backends import BACKENDS, check_backend
from mmlow.deploy.detection import set_candidates
from mmlow.config import config_path, load_config
from mmlow.deploy.loading import DEFAULT_SHAPES, model_from_config
from mmlow.deploy.quantize import DEFAULT_CALIBRATION_IMAGES, calibration_from_config
from .peak import achieved_gflops, machine_peaks, peak_for, peaks_text, rate_cell
from .synthetic import synthetic_batch
from .timing import device_sync, timed_call

STAGE_ORDER = ('preprocess', 'backbone', 'neck', 'head', 'network', 'postprocess')


def _head(model: nn.Module) -> nn.Module:
    return getattr(model, _head_name(model))


def _head_name(model: nn.Module) -> str:
    for name in ('bbox_head', 'decode_head'):
        head = getattr(model, name, None)
        if head is not None and hasattr(head, 'predict_by_feat'):
            return name
    raise ValueError(f'{type(model).__name__}: stage timing needs a single-stage detector '
                     '(bbox_head) or a segmenter (decode_head); a two-stage detector runs '
                     'head and post-processing per region, interleaved')


class StageTimer:
    """Wall time per stage of a model's steps, by timing wrappers set as instance attributes
    of the model's parts (the objects only; ``detach`` puts back what was there)."""

    def __init__(self, synchronize: Callable[[], None] = lambda: None):
        self.synchronize = synchronize
        self.stages: Sequence[str] = ()
        self._ms: Dict[str, float] = {}
        self._wrapped: List[tuple] = []

    def attach(self, model: nn.Module, network: Optional[str] = None) -> bool:
        """Time ``model``'s stages; ``network`` names a method of ``model`` that runs
        backbone, neck and head as one (a backend's predictor: 'extract_feat'). Returns False
        (and times nothing) when another StageTimer already times this model."""
        head = _head(model)
        spans = [('preprocess', model.data_preprocessor, 'forward')]
        if network:
            spans.append(('network', model, network))
        else:
            spans.append(('backbone', model.backbone, 'forward'))
            if getattr(model, 'neck', None) is not None:
                spans.append(('neck', model.neck, 'forward'))
            spans.append(('head', head, 'forward'))
        spans.append(('postprocess', head, 'predict_by_feat'))
        if callable(getattr(model, 'postprocess_result', None)):  # mmseg's resize to the image
            spans.append(('postprocess', model, 'postprocess_result'))
        if any(getattr(getattr(owner, attr), 'stage_timed', False) for _, owner, attr in spans):
            return False
        self.stages = tuple(dict.fromkeys(stage for stage, _, _ in spans))
        for stage, owner, attr in spans:
            self._wrap(stage, owner, attr)
        self._ms = dict.fromkeys(self.stages, 0.)
        return True

    def _wrap(self, stage: str, owner, attr: str) -> None:
        def add(ms, *args, **kwargs):
            self._ms[stage] += ms
        timed = timed_call(getattr(owner, attr), self.synchronize, add)
        timed.stage_timed = True
        self._wrapped.append((owner, attr, vars(owner).get(attr)))
        setattr(owner, attr, timed)

    def detach(self) -> None:
        for owner, attr, before in reversed(self._wrapped):
            if before is None:
                vars(owner).pop(attr, None)
            else:
                setattr(owner, attr, before)
        self._wrapped = []

    def take(self) -> Dict[str, float]:
        """The ms per stage since the last call."""
        taken, self._ms = self._ms, dict.fromkeys(self.stages, 0.)
        return taken


def stage_macs(model: nn.Module, input_shape: Sequence[int]) -> Dict[str, int]:
    """MACs per image of each network stage (backbone, neck, head) of ``model``'s tensor
    forward on a batch of ``input_shape``, and of the whole forward (``network``: with what
    runs between the stages, e.g. a segmenter's logit resize)."""
    parts = {'backbone': 'backbone', 'neck': 'neck', 'head': _head_name(model), 'network': ''}
    if getattr(model, 'neck', None) is None:
        del parts['neck']
    counted = count_macs(model, tuple(input_shape), list(parts.values()))
    return {stage: counted[name] // input_shape[0] for stage, name in parts.items()}


def stage_summary(steps: Sequence[Dict[str, float]], step_ms: Sequence[float],
                  images: Sequence[int]) -> Dict[str, float]:
    """Mean ms per image of each stage over the timed steps (of ``images`` images each),
    ``other`` (the steps minus the stages) and ``total`` (the steps: the records' mean_ms)."""
    count = sum(images)
    means = {stage: sum(step[stage] for step in steps) / count for stage in steps[0]}
    total = sum(step_ms) / count
    means['other'] = total - sum(means.values())
    means['total'] = total
    return means


@torch.inference_mode()
def profile_stages(config: str, checkpoint: Optional[str] = None,
                   backends: Sequence[str] = ('cpu', ), precision: Optional[str] = None,
                   shape: Optional[Sequence[int]] = None, batch: int = 1, iters: int = 10,
                   warmup: int = 2, candidates: Union[int, str, None] = None,
                   cfg_options: Optional[dict] = None,
                   calibration_images: int = DEFAULT_CALIBRATION_IMAGES) -> List[dict]:
    """One row per backend: the mean ms per image of each stage of the config's test step on
    synthetic images (``cpu``: the eager model, split into backbone, neck and head; other
    backends: the deployed network on that backend as one stage; int8: quantized on
    ``calibration_images`` training images)."""
    for backend in backends:
        check_backend(backend, precision)
    model, scope = model_from_config(config, checkpoint, cfg_options)
    _head(model)
    data = synthetic_batch(scope, tuple(shape or DEFAULT_SHAPES[scope]), batch)
    inputs = model.data_preprocessor(data, False)['inputs']
    if candidates is not None:
        set_candidates(model, inputs, candidates)
    macs = stage_macs(model, inputs.shape)
    calibration = None
    if precision == 'int8':
        calibration = calibration_from_config(load_config(config_path(config), cfg_options),
                                              model.data_preprocessor, calibration_images)
    peaks = {}
    rows = []
    for backend in backends:
        if backend == 'cpu' and precision in (None, 'fp32'):
            predictor, step, network, row_precision = model, model.test_step, None, 'fp32'
        else:
            backend_model = BackendModel(model, backend, precision, calibration=calibration)
            backend_model.test_step(data)  # builds the backend for this shape
            predictor, step = backend_model.predictor, backend_model.test_step
            network, row_precision = 'extract_feat', backend_model.precision
        device = BACKENDS[backend].device
        synchronize = device_sync(device)
        timer = StageTimer(synchronize)
        timer.attach(predictor, network)
        try:
            steps, step_ms = [], []
            for index in range(warmup + iters):
                timer.take()
                synchronize()
                start = time.perf_counter()
                step(data)
                synchronize()
                elapsed = (time.perf_counter() - start) * 1e3
                if index >= warmup:
                    steps.append(timer.take())
                    step_ms.append(elapsed)
        finally:
            timer.detach()
        if device not in peaks:
            peaks[device] = machine_peaks(device=device, int8_backends=[
                b for b in backends if precision == 'int8' and BACKENDS[b].device == device])
        stages_ms = stage_summary(steps, step_ms, [batch] * len(steps))
        computing = [stage for stage in stages_ms if stage in macs]
        rows.append(dict(backend=backend, precision=row_precision, stages_ms=stages_ms,
                         gmacs={stage: macs[stage] / 1e9 for stage in computing},
                         gflops={stage: achieved_gflops(macs[stage], stages_ms[stage])
                                 for stage in computing},
                         peak_gflops=peak_for(peaks[device], row_precision, backend)))
    return rows


def stages_table(rows: Sequence[dict]) -> str:
    """Markdown: one row per backend, a column per stage: ms per image and its share of the
    step, and for the network's stages the GFLOP/s achieved (share of the matmul peak of the
    row's precision). A line above gives each stage's GMACs per image and the peaks."""
    present = {stage for row in rows for stage in row['stages_ms']}
    stages = [stage for stage in STAGE_ORDER if stage in present]
    gmacs = {stage: value for row in rows for stage, value in row['gmacs'].items()}
    peaks = {(row['backend'] + '/int8' if row['precision'] == 'int8' else row['precision'],
              round(row['peak_gflops'])) for row in rows}
    lines = ['GMACs per image: ' + ', '.join(f'{stage} {gmacs[stage]:.2f}' for stage in stages
                                             if stage in gmacs) +
             '; matmul peak: ' + peaks_text(dict(sorted(peaks))),
             '',
             '| backend | precision | ' + ' | '.join(stages) + ' | other | total ms |',
             '|---' * (len(stages) + 4) + '|']
    for row in rows:
        times = row['stages_ms']
        cells = []
        for stage in stages + ['other']:
            if stage not in times:
                cells.append('-')
                continue
            cell = f'{times[stage]:.1f} ({100 * times[stage] / times["total"]:.0f} %)'
            if stage in row['gflops']:
                cell += f', {rate_cell(row["gflops"][stage], row["peak_gflops"])} GFLOP/s'
            cells.append(cell)
        lines.append(f'| {row["backend"]} | {row["precision"]} | ' + ' | '.join(cells) +
                     f' | {times["total"]:.1f} |')
    return '\n'.join(lines)
