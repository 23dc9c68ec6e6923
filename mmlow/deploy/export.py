"""tools/export_onnx.py: a config's tensor forward (or its backbone, or a tracker's two graphs)
to ONNX in deploy mode, checked against eager PyTorch with ONNX Runtime; tools/quantize.py: the
same, quantized to INT8 for onnxruntime or openvino on the config's training images."""
import collections
import os
import os.path as osp
from typing import Optional, Sequence

import mmengine
import onnx
import torch

from mmlow.deploy import OutputMismatchError, build_backend
from mmlow.deploy.backends import ONNX_OPSET
from mmlow.deploy.loading import DEFAULT_SHAPES, build_model, model_from_config
from mmlow.config import is_tracking_config, load_config
from mmlow.deploy.quantize import (DEFAULT_CALIBRATION_IMAGES, KEEP_FLOAT,
                                   nodes_kept_float, calibration_from_config)
from mmlow.deploy.tracking import (export_tracker, export_tracker_onnx,
                                   quantize_tracker_graphs, tracker_calibration,
                                   tracker_onnx_error)
from mmlow.fileio import ATOMIC

TRACKER_TOLERANCE = 1e-4  # absolute, on the score probabilities, offsets and sizes


def export_config_onnx(config: str, checkpoint: Optional[str], out: str,
                       shape: Optional[Sequence[int]] = None, batch: int = 1,
                       backbone_only: bool = False, opset: int = ONNX_OPSET,
                       exporter: str = 'torchscript', cfg_options: Optional[dict] = None) -> str:
    """Write the export and return what was written; OutputMismatchError when ONNX Runtime's
    outputs differ from eager beyond the tolerance."""
    cfg = load_config(config, cfg_options)
    if is_tracking_config(cfg):
        report, error = export_tracker(cfg, checkpoint, out, opset)
        if error > TRACKER_TOLERANCE:
            raise OutputMismatchError(f'ONNX Runtime differs from eager by {error:.2e} > '
                                      f'{TRACKER_TOLERANCE:.0e}')
        return report
    model, scope = model_from_config(config, checkpoint, cfg_options)
    module = model.backbone if backbone_only else model
    inputs = torch.randn(batch, 3, *(shape or DEFAULT_SHAPES[scope]))
    if osp.dirname(out):
        os.makedirs(osp.dirname(out), exist_ok=True)
    forward = build_backend('onnxruntime', module, inputs, onnx_path=out, onnx_opset=opset,
                            onnx_exporter=exporter)
    graph = onnx.load(out, load_external_data=False).graph
    outputs = ', '.join(f'{output.name} {[d.dim_value for d in output.type.tensor_type.shape.dim]}'
                        for output in graph.output)
    return (f'wrote {out} ({exporter} exporter, opset {opset}, '
            f'{"backbone of " if backbone_only else ""}{type(model).__name__}, deploy mode)\n'
            f'  input {list(inputs.shape)}\n  outputs {outputs}\n'
            f'  ONNX Runtime vs eager PyTorch: max relative error {forward.max_error:.2e}')


def quantize_config(config: str, checkpoint: Optional[str], backend: str, out_dir: str,
                    num_images: int = DEFAULT_CALIBRATION_IMAGES,
                    shape: Optional[Sequence[int]] = None,
                    cfg_options: Optional[dict] = None,
                    keep_float: Sequence[str] = KEEP_FLOAT) -> str:
    """tools/quantize.py: write the INT8 model of ``config`` for ``backend`` (with the fp32
    export it was made from and quantization.json, what it was made from) into ``out_dir``;
    return the report. The input shape is ``shape``, else the most common input size of the
    calibration images (the config's test pipeline and padding); a tracker's two graphs take
    its crop sizes."""
    cfg = load_config(config, cfg_options)
    os.makedirs(out_dir, exist_ok=True)
    info = dict(config=config, checkpoint=checkpoint, backend=backend, precision='int8')
    if is_tracking_config(cfg):
        model = build_model(cfg, checkpoint)
        calibration = tracker_calibration(cfg, model, num_images, keep_float=keep_float)
        paths = quantize_tracker_graphs(model, *export_tracker_onnx(model, out_dir), backend,
                                        calibration, out_dir)
        error = tracker_onnx_error(model, *paths, backend=backend, precision='int8',
                                   crops=(calibration.templates[0], calibration.searches[0]))
        info.update(files=[osp.basename(p) for p in paths], calibration=calibration.source,
                    max_abs_error=error)
        lines = [f'wrote {paths[0]} and {paths[1]} (INT8 template and search graphs for '
                 f'{backend})', f'  calibration: {calibration.source}',
                 f'  max absolute error against eager on a calibration pair: {error:.3f}']
    else:
        model, _ = model_from_config(config, checkpoint, cfg_options)
        calibration = calibration_from_config(cfg, model.data_preprocessor, num_images,
                                              keep_float=keep_float)
        if shape is None:
            sizes = collections.Counter(tuple(image.shape[2:]) for image in calibration.images)
            shape = sizes.most_common(1)[0][0]
        example = torch.from_numpy(calibration.inputs_for((1, 3, *shape))[0])
        fp32_path = osp.join(out_dir, 'model_fp32.onnx')
        forward = build_backend(backend, model, example, 'int8', onnx_path=fp32_path,
                                calibration=calibration,
                                quantized_path=osp.join(out_dir, 'model_int8.onnx'))
        written = sorted(f for f in os.listdir(out_dir) if f.startswith('model_int8'))
        kept = nodes_kept_float(fp32_path, keep_float)
        info.update(files=written, input_shape=list(example.shape),
                    calibration=calibration.source, kept_float=kept,
                    max_relative_error=forward.max_error)
        lines = [f'wrote {", ".join(osp.join(out_dir, f) for f in written)} (INT8 '
                 f'{type(model).__name__} for {backend}, input {list(example.shape)}) and the '
                 f'fp32 export {fp32_path}', f'  calibration: {calibration.source}',
                 f'  kept in floating point: {", ".join(kept) or "nothing"}',
                 f'  max relative error against eager on a calibration image: '
                 f'{forward.max_error:.3f}']
    mmengine.dump(info, osp.join(out_dir, 'quantization.json'), indent=2, backend_args=ATOMIC)
    return '\n'.join(lines)
