"""A model from a task config for benchmarking and export: built in eval mode, with the
given checkpoint or with random weights (no pretrained backbone is looked for)."""
import os.path as osp
from typing import Optional, Tuple

import torch.nn as nn
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.utils import get_installed_path

from mmlow.apis import load_config

# input size (H, W) after pre-processing, per task, as the papers time them: COCO's 800x1333
# padded to a multiple of 32, ADE20K's 512x512 crops, ImageNet's 224x224
DEFAULT_SHAPES = {'mmdet': (800, 1344), 'mmseg': (512, 512), 'mmpretrain': (224, 224)}


def config_path(config: str) -> str:
    """A config file, also spelt as OpenMMLab's base configs are: 'mmdet::retinanet/x.py'."""
    if '::' not in config:
        return config
    package, relative = config.split('::', 1)
    return osp.join(get_installed_path(package), '.mim', 'configs', relative)


def model_from_config(config: str, checkpoint: Optional[str] = None,
                      cfg_options: Optional[dict] = None) -> Tuple[nn.Module, str]:
    """(model in eval mode on the CPU, the config's default scope)."""
    cfg = load_config(config_path(config), cfg_options)
    scope = cfg.default_scope
    init_default_scope(scope)
    # init_weights() is never called: a Pretrained init_cfg that points at a missing file
    # does not matter for timing, and a given checkpoint replaces every weight
    model = MODELS.build(cfg.model)
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.eval(), scope
