"""A detector, segmenter, classifier or retriever whose tensor forward runs on a backend.

The model's own ``predict`` still runs: data preprocessing, NMS and box rescaling, logit
resizing, label selection stay the model's eager Python. Only the part a backend can run, the
tensor forward ``head.forward(extract_feat(inputs))`` (what ``mode='tensor'`` returns), is
the backend's build; for a two-stage detector, whose predict runs NMS between its stages, it is
``extract_feat`` (backbone and neck), and the RPN and RoI heads stay eager. So end-to-end time is preprocess + backend forward + postprocess, and
``BackendModel.test_step`` stands in for the model's ``test_step`` / ``val_step`` in a runner.
"""
import copy
import time
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from mmlow.deploy.backends import BACKENDS, CompiledForward, build_backend, check_backend, deploy_copy
from mmlow.deploy.detection import dense_head, preselect_top_priors
from mmlow.deploy.quantize import Calibration, require_calibration

# eager PyTorch: no backend build, so any model runs whole
EAGER_BACKENDS = ('cpu', 'cuda')
# Model classes (by name, so that no task package must be imported) whose predict computes
# head.forward(extract_feat(inputs)) and post-processes its result; and the head's attribute.
PREDICT_HEADS = {'SingleStageDetector': 'bbox_head',  # mmdet: RetinaNet, FCOS, ATSS, ...
                 'EncoderDecoder': 'decode_head',  # mmseg: Semantic FPN, UPerNet, ...
                 'ImageClassifier': 'head'}  # mmpretrain


# Model classes (by name) whose predict runs NMS between stages: the backend runs extract_feat
FEATURE_MODELS = ('TwoStageDetector', )


def runs_features_only(model: nn.Module) -> bool:
    return callable(getattr(model, 'extract_feat', None)) and any(
        cls.__name__ in FEATURE_MODELS for cls in type(model).__mro__)


class FeatureExtractor(nn.Module):
    """A model's ``extract_feat`` (backbone and neck) as a module's forward."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor):
        return self.model.extract_feat(inputs)


def predict_head_name(model: nn.Module) -> str:
    """The attribute of the head whose forward ends the tensor forward, or a clear error."""
    for cls in type(model).__mro__:
        name = PREDICT_HEADS.get(cls.__name__)
        head = getattr(model, name, None) if name else None
        if isinstance(head, nn.Module) and not isinstance(head, nn.ModuleList):
            return name
    raise TypeError(
        f'{type(model).__name__} cannot run its tensor forward on a backend: supported are '
        f'models derived from {", ".join(PREDICT_HEADS)} with a single head, and the '
        f'features of {", ".join(FEATURE_MODELS)}s')


class _HeadOutputs:
    """Carries the backend's head outputs from the stand-in extract_feat to the head."""

    def __init__(self, outputs):
        self.outputs = outputs


class BackendModel:
    """``model`` with its tensor forward on ``backend`` (a name of mmlow.deploy.BACKENDS).

    A deployed (BN-fused) copy of ``model`` is made once and moved to the backend's device;
    each new input shape gets its own backend build of it, checked against eager PyTorch
    (``built_last_step`` tells whether the last step made one, for timers to leave it out;
    ``forward_ms`` how long its backend forward took, None for a whole eager model).
    ``predict`` runs on a shallow copy of the deployed model whose ``extract_feat`` and head
    ``forward`` are stand-ins: they share every weight, and the deployed model itself stays
    intact for the backends to build from.

    A single-stage detector's head (``dense_head``, the predictor's copy) post-processes
    through mmlow's top-k preselection (mmlow.deploy.detection.preselect_top_priors, the
    same boxes as mmdet's own) unless ``fast_postprocess`` is False.

    At ``int8`` every build is quantized on ``calibration`` (mmlow.deploy.quantize), which it
    requires.
    """

    def __init__(self, model: nn.Module, backend: str, precision: Optional[str] = None,
                 fast_postprocess: bool = True, calibration: Optional[Calibration] = None):
        self.precision = check_backend(backend, precision)
        if self.precision == 'int8':
            require_calibration(calibration, backend)
        self.calibration = calibration
        self.backend = backend
        self.device = BACKENDS[backend].device
        self.reference = model
        self.deployed = deploy_copy(model).to(self.device)
        self.builds: Dict[Tuple[int, ...], CompiledForward] = {}
        self.built_last_step = False
        self._heads_called = 0
        self.dense_head = None
        self.fast_postprocess = False
        self.features_only = False
        # a retriever's predict embeds (the tensor forward, no head) and searches its gallery
        self.retriever = callable(getattr(self.deployed, 'embed', None))
        if self.retriever:
            self.whole_model = False
            self.predictor = copy.copy(self.deployed)
            self.predictor.extract_feat = self._embedding
            return
        try:
            head_name = predict_head_name(self.deployed)
        except TypeError:
            if backend not in EAGER_BACKENDS and not runs_features_only(self.deployed):
                raise
            head_name = None
        # eager PyTorch needs no export: models a backend cannot split (two-stage detectors)
        # run their own predict, deployed
        self.whole_model = head_name is None and backend in EAGER_BACKENDS
        if self.whole_model:
            self.predictor = self.deployed
            return
        if head_name is None:  # a two-stage detector: backbone and neck on the backend
            self.features_only = True
            self.predictor = copy.copy(self.deployed)
            self.predictor.extract_feat = self._features
            return
        self.predictor = copy.copy(self.deployed)
        self.predictor._modules = dict(self.deployed._modules)
        head = copy.copy(self.deployed._modules[head_name])
        self.predictor._modules[head_name] = head
        # instance attributes shadow the methods of the shallow copies only
        self.predictor.extract_feat = self._extract_feat
        head.forward = self._head_forward
        self.dense_head = dense_head(self.predictor)
        self.fast_postprocess = bool(self.dense_head and fast_postprocess and
                                     preselect_top_priors(self.dense_head))

    def forward_for(self, inputs: torch.Tensor) -> CompiledForward:
        shape = tuple(inputs.shape)
        if shape not in self.builds:
            reference, deployed = self.reference, self.deployed
            if self.features_only:
                reference = FeatureExtractor(reference).eval()
                deployed = FeatureExtractor(deployed).eval()
            self.builds[shape] = build_backend(self.backend, reference, inputs,
                                               self.precision, deployed=deployed,
                                               calibration=self.calibration)
            self.built_last_step = True
        return self.builds[shape]

    def _extract_feat(self, inputs: torch.Tensor, *args, **kwargs) -> _HeadOutputs:
        forward = self.forward_for(inputs)
        self.synchronize()
        start = time.perf_counter()
        outputs = forward(inputs)
        self.synchronize()
        self.forward_ms = (time.perf_counter() - start) * 1e3
        return _HeadOutputs(outputs)

    def _features(self, inputs: torch.Tensor) -> tuple:
        forward = self.forward_for(inputs)
        self.synchronize()
        start = time.perf_counter()
        features = tuple(forward(inputs))
        self.synchronize()
        self.forward_ms = (time.perf_counter() - start) * 1e3
        return features

    def _embedding(self, inputs: torch.Tensor) -> tuple:
        outputs = self.forward_for(inputs)(inputs)
        return tuple(outputs) if isinstance(outputs, (list, tuple)) else (outputs, )

    def _head_forward(self, features, *args, **kwargs):
        if not isinstance(features, _HeadOutputs):
            raise TypeError("the head got features that did not come from the model's "
                            "extract_feat: this model's predict does not fit a backend")
        self._heads_called += 1
        return features.outputs

    @torch.inference_mode()
    def test_step(self, data: dict) -> list:
        """Like BaseModel.test_step: preprocess, predict, return the data samples."""
        self.built_last_step = False
        self._heads_called = 0
        self.forward_ms = None
        data = self.predictor.data_preprocessor(data, False)
        results = self.predictor._run_forward(data, mode='predict')
        if not self._heads_called and not (self.whole_model or self.retriever or
                                           self.features_only):
            raise RuntimeError(f"{type(self.deployed).__name__}'s predict does not call its "
                               'head forward: it cannot run on a backend')
        return results

    val_step = test_step

    def synchronize(self) -> None:
        if self.device == 'cuda':
            torch.cuda.synchronize()
