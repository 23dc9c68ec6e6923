"""Post-training static INT8 quantization of a deployed (BN-fused) tensor forward, calibrated on
images of the task's own training set read through the config's own test pipeline and the
model's data preprocessor, as the model sees them at test time.

    calibration = calibration_from_config(cfg, model.data_preprocessor, num_images=300)
    forward = build_backend('openvino', model, example_inputs, 'int8', calibration=calibration)

The ONNX export of the deployed model is quantized by NNCF (``nncf.quantize``, the OpenVINO
model read from that export) for ``openvino`` and by ``onnxruntime.quantization``
(``quantize_static``, QDQ format) for ``onnxruntime``: weights int8 per output channel,
activations 8-bit per tensor from min/max statistics of the calibration images.

``KEEP_FLOAT`` leaves in floating point the first convolution, which reads the normalised image,
and the convolutions that produce the network's outputs (class logits and box offsets of a
detector, a segmenter's class map, a retriever's embedding), whose values are the predictions
themselves. Measured on the RetinaNet shapes checkpoint (docs/int8.md): they buy at most 0.001
mAP there and cost about 10 % of the INT8 end-to-end time; every INT8 tool takes
``--keep-float`` to choose otherwise. Neither runtime quantizes the attention's softmax.
"""
import copy
import logging
import os.path as osp
import random
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DATASETS, MODELS, DefaultScope

from mmlow.config import config_path, config_scope, load_config
from mmlow.errors import ConfigError

DEFAULT_CALIBRATION_IMAGES = 300
# parts of the graph kept in floating point (see the module docstring); '' keeps everything int8
KEEP_FLOAT = ('first_conv', 'output_convs')
# the backbone tools have no task data of their own: the shapes scenes (generated on first use)
BACKBONE_CALIBRATION_CONFIG = 'configs/segmentation/fpn_lowformer_b1_shapes.py'
QUANTIZERS = {'openvino': 'nncf', 'onnxruntime': 'onnxruntime.quantization'}


class NotCalibratedError(ValueError):
    """INT8 was asked for without calibration images to quantize the activations with."""


@dataclass(frozen=True)
class Calibration:
    """Pre-processed model inputs (each ``(1, C, H, W)`` at its own test-pipeline size), where
    they came from (for the report and the records), and what to keep in floating point."""

    images: Tuple[torch.Tensor, ...]
    source: str
    keep_float: Tuple[str, ...] = KEEP_FLOAT  # parts left in floating point (KEEP_FLOAT)
    files: Tuple[str, ...] = ()  # the image files, where they came from a dataset

    def __post_init__(self):
        if not self.images:
            raise NotCalibratedError(f'no calibration images in {self.source}')

    def inputs_for(self, shape: Sequence[int]) -> List[np.ndarray]:
        """The images fitted into ``shape`` (N, C, H, W) as the test pipeline fits an image into
        a fixed input: scaled to fit, keeping the aspect ratio, and zero-padded at the bottom
        and right (zero is the mean pixel after normalisation); grouped in batches of N."""
        batch, channels, height, width = shape
        fitted = []
        for image in self.images:
            if image.shape[1] != channels:
                raise ValueError(f'calibration images have {image.shape[1]} channels, the '
                                 f'model takes {channels}')
            scale = min(height / image.shape[2], width / image.shape[3])
            size = (max(1, round(image.shape[2] * scale)), max(1, round(image.shape[3] * scale)))
            if size != tuple(image.shape[2:]):
                image = F.interpolate(image, size=size, mode='bilinear', align_corners=False)
            fitted.append(F.pad(image, (0, width - size[1], 0, height - size[0])))
        return [torch.cat(fitted[start:start + batch]).numpy()
                for start in range(0, len(fitted) - batch + 1, batch)]


def _with_pipeline(dataset_cfg: dict, pipeline: list) -> dict:
    """The training dataset config with ``pipeline`` on the dataset(s) that read the files
    (wrappers such as RepeatDataset / ConcatDataset keep their structure)."""
    dataset_cfg = copy.deepcopy(dataset_cfg)
    if 'dataset' in dataset_cfg:
        dataset_cfg['dataset'] = _with_pipeline(dataset_cfg['dataset'], pipeline)
    elif 'datasets' in dataset_cfg:
        dataset_cfg['datasets'] = [_with_pipeline(d, pipeline) for d in dataset_cfg['datasets']]
    else:
        dataset_cfg['pipeline'] = copy.deepcopy(pipeline)
    return dataset_cfg


def calibration_from_config(cfg: Config, preprocessor: Callable,
                            num_images: int = DEFAULT_CALIBRATION_IMAGES,
                            seed: int = 0, keep_float: Sequence[str] = KEEP_FLOAT) -> Calibration:
    """``num_images`` images of ``cfg``'s training set (a fixed random subset, ``seed``) through
    its test pipeline and the model's data ``preprocessor``: what the model sees at test time,
    from images it was trained on (never the split it is evaluated on)."""
    if num_images < 1:
        raise ValueError(f'calibration needs at least one image, not {num_images}')
    if cfg.get('tracking_test'):
        raise ConfigError('tracking configs are calibrated on template and search crops of '
                          'their training pairs: use mmlow.deploy.tracking')
    train_loader, test_loader = cfg.get('train_dataloader'), cfg.get('test_dataloader')
    if not train_loader or not test_loader:
        raise ConfigError('INT8 calibration reads the config\'s training set through its test '
                          'pipeline: the config needs train_dataloader and test_dataloader')
    test_dataset = test_loader['dataset']
    while 'pipeline' not in test_dataset and 'dataset' in test_dataset:
        test_dataset = test_dataset['dataset']
    with DefaultScope.overwrite_default_scope(config_scope(cfg)):
        dataset = DATASETS.build(_with_pipeline(train_loader['dataset'],
                                                test_dataset['pipeline']))
        indices = list(range(len(dataset)))
        random.Random(seed).shuffle(indices)
        images, files = [], []
        with torch.no_grad():
            for index in indices[:num_images]:
                sample = dataset[index]
                files.append(sample['data_samples'].metainfo.get('img_path'))
                inputs = preprocessor(pseudo_collate([sample]), False)['inputs']
                images.append((inputs if torch.is_tensor(inputs) else inputs[0]).float().cpu())
    source = (f'{len(images)} images of the training set of {osp.basename(cfg.filename or "")}'
              f' ({len(dataset)} in all), through its test pipeline')
    return Calibration(tuple(images), source, tuple(keep_float), tuple(files))


def backbone_calibration(config: str = BACKBONE_CALIBRATION_CONFIG,
                         num_images: int = DEFAULT_CALIBRATION_IMAGES,
                         keep_float: Sequence[str] = KEEP_FLOAT) -> Calibration:
    """Calibration images for a bare backbone (tools/benchmark_backbone.py, beyond_macs):
    ``config``'s training images through its test pipeline and its model's data preprocessor
    (ImageNet normalisation), fitted to each input size when a backend is built."""
    cfg = load_config(config_path(config))
    with DefaultScope.overwrite_default_scope(config_scope(cfg)):
        preprocessor = MODELS.build(cfg.model.data_preprocessor)
    return calibration_from_config(cfg, preprocessor, num_images, keep_float=keep_float)


def nodes_kept_float(onnx_path: str, keep_float: Sequence[str]) -> List[str]:
    """Names of the ONNX nodes ``keep_float`` picks: the first Conv that reads the graph input,
    and every Conv / Gemm / MatMul whose result reaches an output through shape-only ops."""
    import onnx
    graph = onnx.load(onnx_path, load_external_data=False).graph
    producers = {out: node for node in graph.node for out in node.output}
    names = []
    if 'first_conv' in keep_float:
        inputs = {value.name for value in graph.input}
        for node in graph.node:
            if node.op_type == 'Conv' and inputs & set(node.input):
                names.append(node.name)
    if 'output_convs' in keep_float:
        # ops that reshape or rescale a result on its way to an output; an Add or Mul only
        # with a constant (a bias, a scale): through a residual Add it would reach every block
        passthrough = ('Reshape', 'Transpose', 'Flatten', 'Sigmoid', 'Identity', 'Squeeze',
                       'Unsqueeze', 'Concat', 'Div', 'ReduceL2', 'LpNormalization', 'Clip',
                       'Expand', 'Max', 'Sqrt')
        constants = {init.name for init in graph.initializer} | {
            out for node in graph.node if node.op_type == 'Constant' for out in node.output}
        for output in graph.output:
            stack, seen = [output.name], set()
            while stack:
                node = producers.get(stack.pop())
                if node is None or node.name in seen:
                    continue
                seen.add(node.name)
                variable = [name for name in node.input if name not in constants]
                if node.op_type in ('Conv', 'Gemm', 'MatMul'):
                    names.append(node.name)
                elif node.op_type in passthrough:
                    stack.extend(variable)
                elif node.op_type in ('Add', 'Mul') and len(variable) == 1:
                    stack.extend(variable)
    unknown = set(keep_float) - set(KEEP_FLOAT)
    if unknown:
        raise ValueError(f'keep_float takes {list(KEEP_FLOAT)}, not {sorted(unknown)}')
    return list(dict.fromkeys(names))


def _openvino_operations(model, onnx_nodes: Sequence[str]) -> List[str]:
    """The OpenVINO operations that compute the given ONNX Conv / Gemm / MatMul nodes: named
    after the node, with '/WithoutBiases' where OpenVINO split the bias off into an Add."""
    compute = ('Convolution', 'GroupConvolution', 'MatMul')
    by_name = {op.get_friendly_name(): op for op in model.get_ordered_ops()
               if op.get_type_name() in compute}
    names = []
    for node in onnx_nodes:
        name = next((n for n in (node, f'{node}/WithoutBiases') if n in by_name), None)
        if name is None:
            raise RuntimeError(f'OpenVINO has no operation for the ONNX node {node!r}: its '
                               'naming of imported nodes changed; update _openvino_operations')
        names.append(name)
    return names


def quantize_onnx(backend: str, onnx_path: str, out_path: str,
                  inputs: Sequence[Union[np.ndarray, Dict[str, np.ndarray]]],
                  keep_float: Sequence[str] = KEEP_FLOAT) -> str:
    """Quantize the ONNX model at ``onnx_path`` for ``backend`` on the calibration ``inputs``
    (arrays for a graph whose one input is named 'input', or feeds: input name -> array);
    write what the backend reads to ``out_path`` (ONNX for onnxruntime, OpenVINO IR .xml for
    openvino) and return that path."""
    if not inputs:
        raise NotCalibratedError('INT8 quantization needs calibration inputs; none were given')
    feeds = [item if isinstance(item, dict) else {'input': item} for item in inputs]
    if backend == 'onnxruntime':
        from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                              quant_pre_process, quantize_static)

        class Reader(CalibrationDataReader):
            def __init__(self):
                self.batches = iter(feeds)

            def get_next(self):
                batch = next(self.batches, None)
                return batch

        # shape inference and graph optimisation first, as ONNX Runtime's quantizer asks; its
        # symbolic shape inference gives up on some backbones (EfficientViT-M0's attention)
        prepared = osp.splitext(out_path)[0] + '_prepared.onnx'
        quant_pre_process(onnx_path, prepared, skip_symbolic_shape=True)
        kept = nodes_kept_float(prepared, keep_float)
        quantize_static(prepared, out_path, Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, nodes_to_exclude=kept,
                        # the compute: elementwise ops between them stay float (a Mul by a
                        # rank-1 constant cannot take per-channel scales)
                        op_types_to_quantize=['Conv', 'MatMul', 'Gemm'])
        return out_path
    if backend == 'openvino':
        import nncf
        import openvino as ov
        nncf.set_log_level(logging.WARNING)  # its INFO lines name every ignored node
        model = ov.Core().read_model(onnx_path)
        kept = _openvino_operations(model, nodes_kept_float(onnx_path, keep_float))
        quantized = nncf.quantize(model, nncf.Dataset(feeds), subset_size=len(feeds),
                                  ignored_scope=nncf.IgnoredScope(names=kept),
                                  model_type=nncf.ModelType.TRANSFORMER)
        out_path = osp.splitext(out_path)[0] + '.xml'
        ov.save_model(quantized, out_path, compress_to_fp16=False)
        return out_path
    raise ValueError(f'INT8 quantization runs on {list(QUANTIZERS)}, not {backend!r}')


def require_calibration(calibration: Optional[Calibration], backend: str) -> Calibration:
    if calibration is None:
        raise NotCalibratedError(
            f'backend {backend!r} at int8 needs calibration images: an uncalibrated INT8 model '
            'quantizes activations to arbitrary ranges. Pass calibration= (mmlow.deploy.'
            'quantize.calibration_from_config), or use tools/quantize.py CONFIG CHECKPOINT')
    return calibration
