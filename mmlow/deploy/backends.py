"""Inference backends for one tensor forward (a backbone, or a detector's / segmenter's
``model(inputs, mode='tensor')``): each is built for one input shape from a deployed (BN-fused)
copy of the module, checked against eager PyTorch, and called like the module itself.

    forward = build_backend('openvino', model, example_inputs)
    outputs = forward(inputs)        # the same nesting as model(inputs), tensors

ONNX files come from torch's TorchScript-based exporter (``dynamo=False``, opset 17): the dynamo
exporter of torch 2.14 writes a ``Split`` with opset-18 attributes when asked for opset 17 and is
three times slower; it is available with ``exporter='dynamo'`` (opset 18 and up).
"""
import copy
import importlib.util
import os.path as osp
import tempfile
import warnings
from dataclasses import dataclass
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmcv.cnn import fuse_conv_bn
from torch.utils._pytree import TreeSpec, tree_flatten, tree_unflatten

from mmlow.analysis.memory import check_forward_fits, network_forward
from mmlow.models.layers import switch_to_deploy
from .quantize import Calibration, quantize_onnx, require_calibration

ONNX_OPSET = 17
# Largest error allowed against eager fp32, relative to the largest magnitude of each output.
# int8: the worst single element of a map; a RetinaNet box map reached 0.30 at 800x1333 on
# upscaled 128 px shapes images (its mAP at the trained size moves by 0.002), while a broken
# build (layout, calibration) is off by the whole magnitude
TOLERANCES = {'fp32': 1e-3, 'tf32': 2e-2, 'fp16': 5e-2, 'bf16': 1e-1, 'int8': 5e-1}


class OnnxExport(NamedTuple):
    path: str
    output_names: List[str]


class BackendUnavailableError(RuntimeError):
    """The backend cannot run on this machine; the message names the ones that can."""


class OutputMismatchError(RuntimeError):
    """A backend's outputs differ from eager PyTorch by more than its precision allows."""


def _unavailable_reason(backend: str) -> Optional[str]:
    spec = BACKENDS[backend]
    if spec.device == 'cuda' and not torch.cuda.is_available():
        return 'torch sees no CUDA GPU on this machine'
    if spec.package and importlib.util.find_spec(spec.package) is None:
        return f'the Python package {spec.package!r} is not installed'
    return None


def available_backends() -> List[str]:
    return [backend for backend in BACKENDS if _unavailable_reason(backend) is None]


def check_backend(backend: str, precision: Optional[str] = None) -> str:
    """Raise a clear error unless ``backend`` runs here; return the precision it will run at."""
    if backend not in BACKENDS:
        raise ValueError(f'unknown backend {backend!r}; choose one of {list(BACKENDS)}')
    reason = _unavailable_reason(backend)
    if reason:
        raise BackendUnavailableError(
            f'backend {backend!r} is unavailable here: {reason}. Backends available here: '
            f'{", ".join(available_backends())}')
    precisions = BACKENDS[backend].precisions
    precision = precision or precisions[0]
    if precision not in precisions:
        raise ValueError(f'backend {backend!r} runs at precision {" or ".join(precisions)}, '
                         f'not {precision!r}')
    if precision == 'fp32' and backend in TORCH_CUDA_FP32 and torch.backends.cudnn.allow_tf32:
        return 'tf32'  # PyTorch's default for CUDA convolutions: say so rather than 'fp32'
    return precision


def deploy_copy(module: nn.Module) -> nn.Module:
    """An eval-mode copy with BatchNorm folded away: mmlow blocks by their own
    ``switch_to_deploy``, BN right after a plain conv elsewhere (e.g. mmdet's ResNet, FPN
    ConvModules) by mmcv's ``fuse_conv_bn``. Callers check it against the original."""
    deployed = copy.deepcopy(module)
    deployed.eval()  # not chained: some train() overrides (mmdet's ResNet) return None
    if hasattr(deployed, 'switch_to_deploy'):
        deployed.switch_to_deploy()
    switch_to_deploy(deployed)
    fuse_conv_bn(deployed)
    return deployed


class _FlatOutputs(nn.Module):
    """The tensor forward with its (nested) outputs flattened to a tuple, as tracers and
    exporters need."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return tuple(tree_flatten(network_forward(self.module, inputs))[0])


def relative_errors(expected: Sequence[torch.Tensor],
                    got: Sequence[torch.Tensor]) -> List[float]:
    errors = []
    for index, (ref, out) in enumerate(zip(expected, got)):
        if tuple(ref.shape) != tuple(out.shape):
            raise OutputMismatchError(f'output {index} has shape {tuple(out.shape)}, eager '
                                      f'gives {tuple(ref.shape)}')
        ref, out = ref.detach().float().cpu(), out.detach().float().cpu()
        scale = max(ref.abs().max().item(), 1e-6)
        errors.append((out - ref).abs().max().item() / scale)
    return errors


def check_outputs(expected: Sequence[torch.Tensor], got: Sequence[torch.Tensor],
                  precision: str, what: str) -> float:
    """Raise OutputMismatchError when ``got`` is not ``expected`` within ``precision``'s
    tolerance; return the largest relative error."""
    if len(expected) != len(got):
        raise OutputMismatchError(f'{what} gives {len(got)} outputs, eager {len(expected)}')
    errors = relative_errors(expected, got)
    tolerance = TOLERANCES[precision]
    worst = max(range(len(errors)), key=errors.__getitem__)
    if errors[worst] > tolerance or errors[worst] != errors[worst]:  # NaN fails too
        raise OutputMismatchError(
            f'{what} differs from eager PyTorch: output {worst} {tuple(expected[worst].shape)} '
            f'has relative error {errors[worst]:.2e} > {tolerance:.0e} allowed at {precision}')
    return errors[worst]


def export_onnx(module: nn.Module, example_inputs: torch.Tensor, path: str,
                opset: int = ONNX_OPSET, exporter: str = 'torchscript') -> List[str]:
    """Write ``module``'s flattened tensor forward to ``path``; return its output names."""
    flat = _FlatOutputs(module)
    flat.eval()  # the exporter restores this flag on the whole model
    with torch.no_grad():
        num_outputs = len(flat(example_inputs))
    output_names = [f'output_{i}' for i in range(num_outputs)]
    if exporter == 'torchscript':
        torch.onnx.export(flat, (example_inputs, ), path, opset_version=opset,
                          input_names=['input'], output_names=output_names, dynamo=False)
    elif exporter == 'dynamo':
        if opset < 18:
            raise ValueError('the dynamo exporter of this torch writes opset-18 Split nodes: '
                             'use opset 18 or more with it')
        torch.onnx.export(flat, (example_inputs, ), path, opset_version=opset,
                          input_names=['input'], output_names=output_names, dynamo=True,
                          verbose=False)
    else:
        raise ValueError(f"exporter must be 'torchscript' or 'dynamo', not {exporter!r}")
    return output_names


class CompiledForward:
    """A backend's build of a tensor forward for one input shape.

    Calling it runs the backend and returns the eager module's output structure (tensors on
    ``self.device``). ``max_error`` is the relative error measured against eager at build time.
    """

    def __init__(self, backend: str, precision: str, input_shape: Tuple[int, ...],
                 run_flat: Callable[[torch.Tensor], List[torch.Tensor]], spec: TreeSpec,
                 max_error: float = 0.):
        self.backend = backend
        self.precision = precision
        self.device = BACKENDS[backend].device
        self.input_shape = input_shape
        self.max_error = max_error
        self._run_flat = run_flat
        self._spec = spec

    def __call__(self, inputs: torch.Tensor):
        if tuple(inputs.shape) != self.input_shape:
            raise ValueError(f'{self.backend} was built for input {self.input_shape}, got '
                             f'{tuple(inputs.shape)}')
        with torch.inference_mode():
            flat = self._run_flat(inputs.to(self.device, torch.float32))
        return tree_unflatten(list(flat), self._spec)

    def synchronize(self) -> None:
        if self.device == 'cuda':
            torch.cuda.synchronize()


AUTOCAST = {'bf16': ('cpu', torch.bfloat16), 'fp16': ('cuda', torch.float16)}


def _autocast(run: Callable, precision: str) -> Callable:
    """bf16 on the CPU, fp16 on CUDA: autocast (matmuls and convolutions in the low precision,
    reductions and normalisations kept in float32), outputs back in float32."""
    if precision not in AUTOCAST:
        return run
    device_type, dtype = AUTOCAST[precision]

    def run_autocast(inputs):
        with torch.autocast(device_type, dtype=dtype):
            outputs = run(inputs)
        return [out.float() for out in outputs]
    return run_autocast


def _eager_runner(flat: nn.Module, example, precision, onnx):
    return _autocast(flat, precision)


def _channels_last_runner(flat: nn.Module, example, precision, onnx):
    # A copy: the deployed model also serves the caller's pre- and post-processing. The input's
    # conversion is part of every call, as it would be for a user's NCHW image batch.
    nhwc = copy.deepcopy(flat).to(memory_format=torch.channels_last)
    return _autocast(
        lambda inputs: nhwc(inputs.contiguous(memory_format=torch.channels_last)), precision)


def _half_runner(flat: nn.Module, example, precision, onnx):
    # fp16 weights rather than autocast: on an H100 a batch-1 LowFormer-B1 is launch-bound,
    # and autocast's extra cast kernels made it 25% slower than fp16 weights, at equal error.
    # A copy: the deployed model also serves the caller's (fp32) pre- and post-processing.
    half = copy.deepcopy(flat).half()
    return lambda inputs: [out.float() for out in half(inputs.half())]


def _compile_runner(flat: nn.Module, example, precision, onnx):
    compiled = torch.compile(flat, dynamic=False)
    return _autocast(compiled, precision)


def _torchscript_runner(flat: nn.Module, example: torch.Tensor, precision, onnx):
    with torch.no_grad(), warnings.catch_warnings():
        # torch 2.14 deprecates TorchScript (the backend is timed as long as torch ships it),
        # and the tracer reads every attribute, so mmdet's deprecated head aliases
        # (anchor_generator, num_anchors) warn although nothing uses them
        warnings.filterwarnings('ignore', message=r'`torch\.jit\.', category=FutureWarning)
        warnings.filterwarnings('ignore', message='DeprecationWarning: (anchor_generator|'
                                '`num_anchors`) is deprecated', category=UserWarning)
        traced = torch.jit.trace(flat, example, check_trace=False)
        optimized = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
    return lambda inputs: optimized(inputs)


def _onnxruntime_runner(flat, example, precision, onnx: OnnxExport):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(onnx.path, options, providers=['CPUExecutionProvider'])
    input_name = session.get_inputs()[0].name

    def run(inputs):
        return [torch.from_numpy(out) for out in
                session.run(None, {input_name: inputs.contiguous().numpy()})]
    return run


def _openvino_runner(flat, example, precision: str, onnx: OnnxExport):
    import openvino as ov
    core = ov.Core()
    # Without the hint OpenVINO picks bf16 on CPUs that have it (AVX-512 BF16, AMX). An int8
    # model runs what it keeps in floating point at bf16 where the CPU has it
    compiled = core.compile_model(core.read_model(onnx.path), 'CPU', {
        'INFERENCE_PRECISION_HINT': 'f32' if precision == 'fp32' else 'bf16',
        'PERFORMANCE_HINT': 'LATENCY',
        'INFERENCE_NUM_THREADS': torch.get_num_threads(),
    })
    request = compiled.create_infer_request()

    def run(inputs):
        request.infer({0: inputs.contiguous().numpy()})
        # the request reuses its output memory on the next call: copy out
        return [torch.from_numpy(request.get_output_tensor(i).data.copy())
                for i in range(len(compiled.outputs))]
    return run


def _tensorrt_fp16_flag(trt):
    """TensorRT 10's weak-typing flag for fp16 kernels; TensorRT 11 removed it (it wants an
    fp16 ONNX model, a strongly typed network, instead)."""
    flag = getattr(trt.BuilderFlag, 'FP16', None)
    if flag is None:
        raise BackendUnavailableError(
            f'backend \'tensorrt\' at fp16 needs TensorRT 10 (its BuilderFlag.FP16), but '
            f'TensorRT {trt.__version__} is installed, which removed it: install the pinned '
            'TensorRT (pip install -r requirements/gpu.txt), or use tensorrt/fp32')
    return flag


def _tensorrt_runner(flat, example, precision: str, onnx: OnnxExport):
    import tensorrt as trt
    fp16_flag = _tensorrt_fp16_flag(trt) if precision == 'fp16' else None
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # explicit batch, TensorRT 10's only mode
    parser = trt.OnnxParser(network, logger)
    with open(onnx.path, 'rb') as f:
        if not parser.parse(f.read()):
            errors = '; '.join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise RuntimeError(f'TensorRT cannot parse the ONNX export: {errors}')
    config = builder.create_builder_config()
    if fp16_flag is not None:
        config.set_flag(fp16_flag)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError('TensorRT failed to build an engine (see its log above)')
    engine = trt.Runtime(logger).deserialize_cuda_engine(serialized)
    context = engine.create_execution_context()
    outputs = []
    for name in onnx.output_names:
        dtype = torch.from_numpy(np.empty(0, trt.nptype(engine.get_tensor_dtype(name)))).dtype
        buffer = torch.empty(tuple(engine.get_tensor_shape(name)), dtype=dtype, device='cuda')
        context.set_tensor_address(name, buffer.data_ptr())
        outputs.append(buffer)

    def run(inputs):
        inputs = inputs.contiguous()
        context.set_tensor_address('input', inputs.data_ptr())
        if not context.execute_async_v3(torch.cuda.current_stream().cuda_stream):
            raise RuntimeError('TensorRT execution failed')
        return [buffer.float().clone() for buffer in outputs]
    return run


@dataclass(frozen=True)
class BackendSpec:
    device: str  # where inputs and outputs live: 'cpu' or 'cuda'
    precisions: Tuple[str, ...]  # the first is the default
    package: Optional[str]  # the Python package it needs beyond torch
    description: str
    # (deployed flat module, example input, precision, ONNX export or None) -> run(inputs)
    make_runner: Callable[..., Callable[[torch.Tensor], List[torch.Tensor]]]
    needs_onnx: bool = False


BACKENDS = {
    'cpu': BackendSpec('cpu', ('fp32', 'bf16'), None, 'PyTorch eager (bf16: autocast)',
                       _eager_runner),
    'cpu-channels-last': BackendSpec('cpu', ('fp32', 'bf16'), None,
                                     'PyTorch eager, channels-last (NHWC) weights and input',
                                     _channels_last_runner),
    'cpu-compile': BackendSpec('cpu', ('fp32', 'bf16'), None,
                               'torch.compile (inductor; bf16: autocast)', _compile_runner),
    'torchscript': BackendSpec('cpu', ('fp32', ), None,
                               'torch.jit.trace + torch.jit.optimize_for_inference',
                               _torchscript_runner),
    'onnxruntime': BackendSpec('cpu', ('fp32', 'int8'), 'onnxruntime',
                               f'ONNX Runtime, CPU execution provider, opset {ONNX_OPSET}',
                               _onnxruntime_runner, needs_onnx=True),
    'openvino': BackendSpec('cpu', ('fp32', 'bf16', 'int8'), 'openvino',
                            'OpenVINO CPU plugin (int8: NNCF post-training quantization)',
                            _openvino_runner, needs_onnx=True),
    'cuda': BackendSpec('cuda', ('fp32', 'fp16'), None, 'PyTorch eager on CUDA (fp16: autocast)',
                        _eager_runner),
    'cuda-torchscript': BackendSpec(
        'cuda', ('fp32', ), None,
        'torch.jit.trace + optimize_for_inference on CUDA (the LowFormer papers\' GPU protocol)',
        _torchscript_runner),
    'cuda-fp16': BackendSpec('cuda', ('fp16', ), None, 'PyTorch eager on CUDA, fp16 weights',
                             _half_runner),
    'tensorrt': BackendSpec('cuda', ('fp16', 'fp32'), 'tensorrt',
                            'TensorRT engine built from the ONNX export', _tensorrt_runner,
                            needs_onnx=True),
}

# PyTorch's own CUDA runs, whose fp32 convolutions are TF32 unless cudnn.allow_tf32 is off
TORCH_CUDA_FP32 = ('cuda', 'cuda-torchscript')


def parse_variant(text: str) -> Tuple[str, str]:
    """'openvino/bf16' -> ('openvino', 'bf16'); a bare backend name takes its default
    precision."""
    backend, _, precision = text.partition('/')
    if backend not in BACKENDS:
        raise ValueError(f'unknown backend {backend!r} in {text!r}; choose one of '
                         f'{list(BACKENDS)}')
    return backend, precision or BACKENDS[backend].precisions[0]


def build_backend(backend: str, module: nn.Module, example_inputs: torch.Tensor,
                  precision: Optional[str] = None, deployed: Optional[nn.Module] = None,
                  onnx_path: Optional[str] = None, onnx_opset: int = ONNX_OPSET,
                  onnx_exporter: str = 'torchscript',
                  calibration: Optional[Calibration] = None,
                  quantized_path: Optional[str] = None) -> CompiledForward:
    """Build ``module``'s tensor forward on ``backend`` (a BACKENDS name) for the shape of
    ``example_inputs``.

    ``module`` is the eager reference (eval mode, fp32); ``deployed`` its BN-fused copy (made
    here when not given). Both the fused copy and the backend are checked against the
    reference on ``example_inputs``: a mismatch raises OutputMismatchError. ONNX-based
    backends write their export (see export_onnx) to ``onnx_path``, a temporary file when not
    given. ``int8`` quantizes that export on ``calibration``'s images fitted to the input shape
    (mmlow.deploy.quantize), written to ``quantized_path`` when given (a temporary file when
    not), and checked on the first of them rather than on ``example_inputs``; without them it
    is refused.
    """
    precision = check_backend(backend, precision)
    calibration_inputs = None
    if precision == 'int8':
        # checked on a calibration image: int8 ranges are those of images like them, and a
        # synthetic input (a benchmark's) can leave them by far
        calibration_inputs = require_calibration(calibration, backend).inputs_for(
            tuple(example_inputs.shape))
        example_inputs = torch.from_numpy(calibration_inputs[0])
    if module.training:
        raise ValueError('build_backend needs the module in eval mode')
    spec = BACKENDS[backend]
    device = next(module.parameters()).device
    for runs_on in {device, torch.device(spec.device)}:  # the reference's, the backend's
        check_forward_fits(module, example_inputs.shape, runs_on)
    example_inputs = example_inputs.to(device, torch.float32)
    with torch.inference_mode():
        expected, tree_spec = tree_flatten(network_forward(module, example_inputs))
    if deployed is None:
        deployed = deploy_copy(module)
    flat = _FlatOutputs(deployed).to(spec.device)
    flat.eval()
    example = example_inputs.to(spec.device)
    # the fused model runs where the backend does: under TF32 convolutions on CUDA
    fused_precision = 'tf32' if spec.device == 'cuda' and torch.backends.cudnn.allow_tf32 \
        else 'fp32'
    with torch.inference_mode():
        check_outputs(expected, flat(example), fused_precision, 'the BN-fused (deploy) model')

    with tempfile.TemporaryDirectory() as tmp:
        onnx = None
        if spec.needs_onnx:
            path = onnx_path or osp.join(tmp, 'model.onnx')
            onnx = OnnxExport(path, export_onnx(flat.module, example, path, onnx_opset,
                                                onnx_exporter))
            if precision == 'int8':
                onnx = onnx._replace(path=quantize_onnx(
                    backend, onnx.path, quantized_path or osp.join(tmp, 'model_int8.onnx'),
                    calibration_inputs, calibration.keep_float))
        run = spec.make_runner(flat, example, precision, onnx)
        forward = CompiledForward(backend, precision, tuple(example.shape), run, tree_spec)
        with torch.inference_mode():
            got = run(example)
    forward.max_error = check_outputs(expected, got, precision, f'backend {backend!r}')
    return forward
