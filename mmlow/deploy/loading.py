"""A model from a task config, as the inference API, the deployment and the measurements build
it: in eval mode, with the given checkpoint or with its own random initialisation (no
pretrained weights are looked for)."""
import glob
import logging
import os.path as osp
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import MMLogger
from mmengine.registry import MODELS, DefaultScope, init_default_scope

from mmlow.checkpoint import load_checkpoint
from mmlow.config import config_path, config_scope, load_config
from mmlow.fileio import IMAGE_SUFFIXES
from mmlow.models.wiring import check_neck_fits_backbone

# input size (H, W) after pre-processing, per task, as the papers time them: COCO's 800x1333
# padded to a multiple of 32, ADE20K's 512x512 crops, ImageNet's 224x224
DEFAULT_SHAPES = {'mmdet': (800, 1344), 'mmseg': (512, 512), 'mmpretrain': (224, 224)}
# a retriever searches a fixed random gallery of this many unit embeddings when timed: the
# size of CUB's test set / In-Shop's gallery, and no dataset has to be read or embedded
BENCHMARK_GALLERY_SIZE = 10000


def _without_pretrained(node):
    """The model config with every pretrained-weights reference taken out."""
    def is_pretrained(init_cfg) -> bool:
        return isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'

    if isinstance(node, dict):
        node = {key: _without_pretrained(value) for key, value in node.items()
                if key != 'pretrained'}
        init_cfg = node.get('init_cfg')
        if is_pretrained(init_cfg):
            node['init_cfg'] = None
        elif isinstance(init_cfg, list):
            node['init_cfg'] = [item for item in init_cfg if not is_pretrained(item)]
        return node
    if isinstance(node, (list, tuple)):
        return type(node)(_without_pretrained(value) for value in node)
    return node


def build_model(cfg: Config, checkpoint: Optional[str] = None, strict: bool = True,
                seed: Optional[int] = None) -> nn.Module:
    """Any mmlow config's model (detector, segmenter, retriever, tracker) in eval mode on the
    CPU, its neck checked against its backbone. With ``checkpoint``: its weights through the
    one loader (mmlow.checkpoint: weights-only, checked to fit). Without: the model's own
    initialisation (from ``seed`` when given), e.g. RetinaNet's prior probability on the
    classification bias. Pretrained-backbone references are left out either way (the
    checkpoint holds every weight; timing and baselines do not need them)."""
    init_default_scope(config_scope(cfg))
    if seed is not None:
        torch.manual_seed(seed)
    model = MODELS.build(ConfigDict(_without_pretrained(cfg.model.to_dict())))
    check_neck_fits_backbone(model)
    if checkpoint:
        load_checkpoint(model, checkpoint, strict)
    else:
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)  # init_weights reports every parameter at INFO level
        try:
            model.init_weights()
        finally:
            logger.setLevel(level)
    model.cfg = cfg
    return model.eval()


def model_from_config(config: str, checkpoint: Optional[str] = None,
                      cfg_options: Optional[dict] = None) -> Tuple[nn.Module, str]:
    """(model in eval mode on the CPU, the config's default scope).

    Without a checkpoint the model has its own initialisation (e.g. RetinaNet's prior
    probability on the classification bias, so that post-processing sees as few candidate boxes
    as at the start of training) but no pretrained weights, which are not needed for timing.
    A retriever gets a random gallery of BENCHMARK_GALLERY_SIZE embeddings to search.
    """
    cfg = load_config(config_path(config), cfg_options)
    model = build_model(cfg, checkpoint)
    if callable(getattr(model, 'set_gallery', None)):
        dim = model.embed(torch.zeros(1, 3, 64, 64)).shape[1]
        generator = torch.Generator().manual_seed(0)
        model.set_gallery(F.normalize(torch.randn(BENCHMARK_GALLERY_SIZE, dim,
                                                  generator=generator), dim=1))
    return model, cfg.default_scope


# transforms that read annotations, which plain image files do not have
ANNOTATION_TRANSFORMS = ('LoadAnnotations', 'LoadPanopticAnnotations')


def image_batches(config: str, images_dir: str, batch_size: int,
                  cfg_options: Optional[dict] = None) -> List[dict]:
    """The images of ``images_dir`` through the config's own test pipeline (without its
    annotation loading), collated into batches as a test dataloader hands them over."""
    paths = sorted(path for path in glob.glob(osp.join(images_dir, '*'))
                   if path.lower().endswith(IMAGE_SUFFIXES))
    if not paths:
        raise FileNotFoundError(f'no images ({", ".join(IMAGE_SUFFIXES)}) in {images_dir!r}: '
                                'give a folder of image files')
    cfg = load_config(config_path(config), cfg_options)
    transforms = [t for t in cfg.test_dataloader.dataset.pipeline
                  if t['type'] not in ANNOTATION_TRANSFORMS]
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        pipeline = Compose(transforms)
        samples = []
        for index, path in enumerate(paths):
            sample = pipeline(dict(img_path=path, img_id=index))
            if sample is None:
                raise ValueError(f'the test pipeline dropped {path!r}: is it a readable image?')
            samples.append(sample)
    return [pseudo_collate(samples[start:start + batch_size])
            for start in range(0, len(samples), batch_size)]
