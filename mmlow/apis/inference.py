"""One entry point for every task's model, as mmdet's ``init_detector``: a detector, segmenter,
retriever or tracker from its config and checkpoint, through the one checkpoint loader."""
from typing import Optional, Union

import torch.nn as nn
from mmengine.config import Config

from mmlow.config import config_path, load_config
from mmlow.deploy.loading import build_model


def init_model(config: Union[str, Config], checkpoint: Optional[str] = None,
               device: str = 'cpu', cfg_options: Optional[dict] = None,
               strict: bool = True) -> nn.Module:
    """The model of any mmlow config (a path, a config name, or a loaded Config) in eval mode
    on ``device``, with ``checkpoint``'s weights read weights-only and checked to fit (a
    checkpoint of another model is refused naming what does not fit; ``strict=False`` loads
    the matching weights and warns). ``model.cfg`` is the config it was built from."""
    cfg = config if isinstance(config, Config) else load_config(config_path(config),
                                                                cfg_options)
    return build_model(cfg, checkpoint, strict).to(device)
