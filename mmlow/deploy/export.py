"""tools/export_onnx.py: a config's tensor forward (or its backbone, or a tracker's two graphs)
to ONNX in deploy mode, checked against eager PyTorch with ONNX Runtime."""
import os
import os.path as osp
from typing import Optional, Sequence

import onnx
import torch

from mmlow.deploy import OutputMismatchError, build_backend
from mmlow.deploy.backends import ONNX_OPSET
from mmlow.deploy.loading import DEFAULT_SHAPES, model_from_config
from mmlow.config import is_tracking_config, load_config
from mmlow.deploy.tracking import export_tracker

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
