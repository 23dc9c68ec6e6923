"""End-to-end latency and FPS of the validation / test pipeline, beside its metrics.

    custom_hooks = [dict(type='LatencyHook', warmup=5)]

Times each ``val_step`` / ``test_step`` of the runner's model: data preprocessor, forward and
post-processing (NMS, mask pasting, logit resizing), without data loading or the evaluator.
The timer is a ``perf_counter`` pair around the step (after a device synchronisation on CUDA):
no extra forward runs. ``mode='backbone'`` times only ``model.backbone``'s forward instead
(its forward hooks start and stop the timer), to tell the backbone's share from the rest.
For retrievers (mmlow.models.EmbeddingRetriever), ``mode='embedding'`` times each call of
``model.embed`` (embedding extraction, gallery and queries: ms per image) and
``mode='search'`` each call of ``model.search`` (the nearest-neighbour search against the
gallery: ms per query).
``backend='onnxruntime'`` etc. runs the tensor forward of a deployed copy on that backend
(see mmlow.deploy.BackendModel); iterations that build a backend for a new input shape are
not timed. ``candidates=N`` (or ``'all'``) times a copy of a single-stage detector whose
classification bias lets about N (score, class) pairs per image of the first batch pass the
score threshold (mmlow.deploy.detection.set_candidates; on the ``cpu`` backend unless one is
given); the runner's model is left as it is.

Per run it logs per-image median / p90 / mean latency and FPS, for single-stage detectors
the mean (score, class) candidates per image that reached NMS and boxes out, and for
single-stage detectors and segmenters in ``end2end`` mode the mean ms per image of each stage
(``stages_ms``: preprocess, backbone, neck, head, postprocess, or the backend's network as one;
see mmlow.benchmark.stages) (message hub scalars ``{val,test}/latency/*``, so they reach the
log, the scalars JSON and TensorBoard) and writes
one JSON record (keys: mmlow.benchmark.RECORD_KEYS) to
``latency_{phase}_{mode}_{backend}_iter{iter}.json`` in the log dir.
"""
import copy
import json
import os.path as osp
import time
from typing import List, Optional, Sequence, Union

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmlow.deploy.backend_model import BackendModel
from mmlow.deploy.detection import (PostprocessCounter, dense_head, mean_counts,
                                       set_candidates)
from mmlow.deploy.quantize import (DEFAULT_CALIBRATION_IMAGES, KEEP_FLOAT,
                                   calibration_from_config)
from mmlow.benchmark.record import (latency_stats, make_record, model_name, most_common,
                                    percentile)
from mmlow.benchmark.stages import StageTimer, stage_summary
from mmlow.benchmark.timing import timed_call
from mmlow.registry import HOOKS

MODES = ('end2end', 'backbone', 'embedding', 'search')
# modes that time one method of the model, and the method
METHOD_MODES = {'embedding': 'embed', 'search': 'search'}


@HOOKS.register_module()
class LatencyHook(Hook):
    """Measure per-image latency and FPS during validation and testing.

    Args:
        warmup: leading iterations of each run left out of the figures.
        mode: 'end2end' (the whole step), 'backbone' (the backbone's forward only), or for a
            retriever 'embedding' / 'search' (per image / per query).
        backend: None to time the runner's model as it is; or a name of
            mmlow.deploy.BACKENDS to run the tensor forward of its deployed copy there.
        precision: the backend's precision where it has a choice (openvino: 'fp32', 'bf16',
            'int8'). int8 is calibrated on ``calibration_images`` images of the config's
            training set through its test pipeline, ``keep_float`` left in floating point
            (mmlow.deploy.quantize.KEEP_FLOAT).
        candidates: None to time the model's own scores; or a count (or 'all') of (score,
            class) pairs per image that a copy's classification bias lets pass the threshold.
    """
    priority = 'NORMAL'  # after_*_epoch must run before LoggerHook logs the scalars

    def __init__(self, warmup: int = 5, mode: str = 'end2end', backend: Optional[str] = None,
                 precision: Optional[str] = None,
                 candidates: Union[int, str, None] = None,
                 calibration_images: int = DEFAULT_CALIBRATION_IMAGES,
                 keep_float: Sequence[str] = KEEP_FLOAT):
        if mode not in MODES:
            raise ValueError(f'LatencyHook mode must be one of {MODES}, not {mode!r}')
        if mode != 'end2end' and backend is not None:
            raise ValueError(f'mode={mode!r} times a part of the eager model: a backend runs '
                             'backbone, neck and head as one graph')
        if mode != 'end2end' and candidates is not None:
            raise ValueError(f'mode={mode!r} times no post-processing: candidates do not '
                             'apply')
        if warmup < 0:
            raise ValueError('warmup must be >= 0')
        self.warmup = warmup
        self.mode = mode
        self.backend = backend
        self.precision = precision
        self.candidates = candidates
        self.calibration_images = calibration_images
        self.keep_float = tuple(keep_float)
        self.records: List[dict] = []
        self._reset()

    def _reset(self) -> None:
        self._iteration_ms: List[float] = []
        self._images: List[int] = []
        self._shapes: List[tuple] = []
        self._steps = 0
        self._handles = []
        self.backend_model = None
        self._last_shape = None
        self._on_cuda = False
        self._backbone_started = 0.
        self._backbone_ms = 0.
        self._counter = PostprocessCounter()
        self._counts = ([], [])
        self._forward_ms: List[float] = []
        self._timed_method = None
        self._stage_timer = None
        self._stage_steps: List[dict] = []

    # --- the timers ---------------------------------------------------------------------

    @staticmethod
    def _model(runner) -> torch.nn.Module:
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def _synchronize(self) -> None:
        if self._on_cuda:
            torch.cuda.synchronize()

    def _start(self, runner, phase: str) -> None:
        self._reset()
        model = self._model(runner)
        step_name = f'{phase}_step'
        other = vars(runner.model).get(step_name)
        replaces_model = self.backend is not None or self.candidates is not None
        if other is not None and (replaces_model or getattr(other, 'replaces_model', False)):
            raise ValueError('a LatencyHook with a backend or candidates runs its own copy of '
                             'the model: it cannot share a run with another LatencyHook')
        self._on_cuda = next(model.parameters()).device.type == 'cuda'
        if self.mode in METHOD_MODES:
            self._time_method(model, METHOD_MODES[self.mode])
            return
        if replaces_model:
            def step(data):
                if self.backend_model is None:  # candidates are set on the first batch
                    self._build_backend_model(model, data, runner.cfg)
                return self.backend_model.test_step(data)
        else:
            self._observe(model.data_preprocessor, dense_head(model))
            if self.mode == 'end2end':
                self._time_stages(model)
            step = getattr(runner.model, step_name)
        if self.mode == 'backbone':
            backbone = getattr(model, 'backbone', None)
            if backbone is None:
                raise ValueError(f"mode='backbone': {type(model).__name__} has no backbone")
            self._handles += [backbone.register_forward_pre_hook(self._backbone_start),
                              backbone.register_forward_hook(self._backbone_stop)]

        def timed_step(data):
            self._backbone_ms = 0.
            self._synchronize()
            start = time.perf_counter()
            outputs = step(data)
            self._synchronize()
            elapsed_ms = (time.perf_counter() - start) * 1e3
            self._add(elapsed_ms, images=len(outputs))  # one data sample per image
            return outputs

        timed_step.replaces_model = replaces_model
        # an instance attribute shadows the model's method for this run only
        setattr(runner.model, step_name, timed_step)

    def _build_backend_model(self, model, data, cfg) -> None:
        if self.candidates is not None:
            model = copy.deepcopy(model)
            with torch.inference_mode():
                inputs = model.data_preprocessor(data, False)['inputs']
            set_candidates(model, inputs, self.candidates)
        calibration = None
        if self.precision == 'int8':
            calibration = calibration_from_config(cfg, model.data_preprocessor,
                                                  self.calibration_images,
                                                  keep_float=self.keep_float)
        self.backend_model = BackendModel(model, self.backend or 'cpu', self.precision,
                                          calibration=calibration)
        self._on_cuda = self._on_cuda or self.backend_model.device == 'cuda'
        self._observe(self.backend_model.predictor.data_preprocessor,
                      self.backend_model.dense_head)
        if not self.backend_model.whole_model and not self.backend_model.retriever:
            self._time_stages(self.backend_model.predictor, network='extract_feat')

    def _time_stages(self, model, network=None) -> None:
        """Stage times of single-stage detectors and segmenters; another end2end LatencyHook
        of the same run may already time them."""
        timer = StageTimer(self._synchronize)
        try:
            attached = timer.attach(model, network)
        except ValueError:  # no stages to tell apart (two-stage detector, classifier)
            return
        if attached:
            self._stage_timer = timer

    def _observe(self, preprocessor, head) -> None:
        self._handles.append(preprocessor.register_forward_hook(self._record_input_shape))
        if head is not None:
            self._counter.attach(head)

    def _time_method(self, model: torch.nn.Module, name: str) -> None:
        method = getattr(model, name, None)
        if not callable(method):
            raise ValueError(f'mode={self.mode!r} times the {name}() of a retriever; '
                             f'{type(model).__name__} has none')

        def record(ms, inputs, *args, **kwargs):
            self._last_shape = tuple(inputs.shape)
            self._add(ms, images=len(inputs))

        # shadows the method for this run only
        setattr(model, name, timed_call(method, self._synchronize, record))
        self._timed_method = (model, name)

    def _record_input_shape(self, module, args, outputs) -> None:
        inputs = outputs.get('inputs') if isinstance(outputs, dict) else None
        self._last_shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else None

    def _backbone_start(self, module, args) -> None:
        self._synchronize()
        self._backbone_started = time.perf_counter()

    def _backbone_stop(self, module, args, outputs) -> None:
        self._synchronize()
        self._backbone_ms += (time.perf_counter() - self._backbone_started) * 1e3

    def _add(self, step_ms: float, images: int) -> None:
        self._steps += 1
        built = self.backend_model is not None and self.backend_model.built_last_step
        candidates, boxes = self._counter.take()
        stages = self._stage_timer.take() if self._stage_timer is not None else None
        if self._steps <= self.warmup or built:
            return
        if stages is not None:
            self._stage_steps.append(stages)
        self._counts[0].extend(candidates)
        self._counts[1].extend(boxes)
        if self.backend_model is not None and self.backend_model.forward_ms is not None:
            self._forward_ms.append(self.backend_model.forward_ms / images)
        self._iteration_ms.append(self._backbone_ms if self.mode == 'backbone' else step_ms)
        self._images.append(images)
        if self._last_shape is not None:
            self._shapes.append(self._last_shape)

    def _stop(self, runner, phase: str) -> None:
        if self._timed_method is not None:
            model, name = self._timed_method
            vars(model).pop(name, None)
            self._timed_method = None
            return
        vars(runner.model).pop(f'{phase}_step', None)
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._counter.detach()
        if self._stage_timer is not None:
            self._stage_timer.detach()

    # --- the record ---------------------------------------------------------------------

    def _precision_and_backend(self, runner, phase: str):
        if self.backend_model is not None:
            return self.backend_model.precision, self.backend_model.backend
        loop = runner.val_loop if phase == 'val' else runner.test_loop
        if getattr(loop, 'fp16', False):  # the loop's autocast: fp16 on CUDA, bf16 on CPU
            # eager PyTorch under autocast: the 'cuda' / 'cpu' backends at that precision
            # ('cuda-fp16' is fp16 weights, another thing)
            return ('fp16', 'cuda') if self._on_cuda else ('bf16', 'cpu')
        return ('fp32', 'cuda') if self._on_cuda else ('fp32', 'cpu')

    def _report(self, runner, phase: str) -> None:
        if not self._iteration_ms:
            runner.logger.warning(
                f'LatencyHook: {self._steps} {phase} iterations, none timed after the '
                f'{self.warmup} warm-up ones: no latency recorded for this run')
            return
        precision, backend = self._precision_and_backend(runner, phase)
        model = self._model(runner)
        config = getattr(runner.cfg, 'filename', None)
        record = make_record(
            model=model_name(model), config=osp.basename(config) if config else None,
            phase=phase, mode=self.mode, backend=backend,
            device='cuda' if self._on_cuda else 'cpu', precision=precision,
            deploy=self.backend_model is not None, batch_size=most_common(self._images),
            input_shape=most_common(self._shapes), warmup=self.warmup,
            stats=latency_stats(self._iteration_ms, self._images),
            counts=dict(mean_counts(*self._counts), forward_ms=(
                percentile(self._forward_ms, 0.5) if self._forward_ms else None),
                stages_ms=(stage_summary(self._stage_steps, self._iteration_ms, self._images)
                           if self._stage_steps else None)))
        self.records.append(record)
        for key in ('fps', 'median_ms', 'p90_ms', 'mean_ms', 'forward_ms', 'nms_candidates',
                    'boxes_out'):
            if record[key] is not None:
                runner.message_hub.update_scalar(f'{phase}/latency/{key}', record[key])
        for stage, ms in (record['stages_ms'] or {}).items():
            runner.message_hub.update_scalar(f'{phase}/latency/stages/{stage}_ms', ms)
        path = osp.join(runner.log_dir,
                        f'latency_{phase}_{self.mode}_{backend}_iter{runner.iter}.json')
        with open(path, 'w') as f:
            json.dump(record, f, indent=2)
        unit = 'query' if self.mode == 'search' else 'image'
        runner.logger.info(
            f'LatencyHook ({self.mode}, {backend} {precision}): {record["fps"]:.2f} {unit}/s, '
            f'per {unit} median {record["median_ms"]:.2f} ms, p90 {record["p90_ms"]:.2f} ms '
            f'over {record["num_iters"]} iterations (batch {record["batch_size"]}, input '
            f'{record["input_shape"]}{self._counts_text(record)}){self._error_text()}; '
            f'record: {path}')

    def _error_text(self) -> str:
        if self.backend_model is None or not self.backend_model.builds:
            return ''
        error = max(build.max_error for build in self.backend_model.builds.values())
        return f', outputs within {error:.1e} (relative) of eager fp32'

    @staticmethod
    def _counts_text(record: dict) -> str:
        if record['nms_candidates'] is None:
            return ''
        return (f', {record["nms_candidates"]:.0f} candidates into NMS and '
                f'{record["boxes_out"]:.0f} boxes out per image')

    def before_val_epoch(self, runner) -> None:
        self._start(runner, 'val')

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._stop(runner, 'val')
        self._report(runner, 'val')

    def before_test_epoch(self, runner) -> None:
        self._start(runner, 'test')

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._stop(runner, 'test')
        self._report(runner, 'test')
