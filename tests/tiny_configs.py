"""Shrink a shapes config to a few small images so that tests run it in seconds."""
import copy
from typing import Tuple

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _resize_pipeline(pipeline, image_size):
    for transform in pipeline:
        if transform.get('type') == 'Resize':
            transform['scale'] = image_size


def tiny_shapes_cfg(config_path: str, data_root: str, work_dir: str, *, num_train: int = 4,
                    num_val: int = 2, image_size: Tuple[int, int] = (64, 64),
                    batch_size: int = 2, iterations: int = 1) -> Config:
    """``config_path`` on generated ``num_train`` / ``num_val`` images of ``image_size``.

    Training stops after ``iterations`` (iteration-based configs) or one epoch of
    ``num_train / batch_size`` iterations (epoch-based ones), then validates once. Score
    thresholds drop to 0 so that an untrained detector still hands boxes to the metric.
    """
    cfg = Config.fromfile(config_path)
    cfg.work_dir = work_dir
    data_root = data_root.rstrip('/') + '/'
    generator = dict(num_train=num_train, num_val=num_val, img_size=image_size,
                     size_range=(0.3, 0.6))
    for key in DATALOADERS:
        loader = cfg[key]
        loader.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=data_root, generator=copy.deepcopy(generator))
        _resize_pipeline(loader.dataset.pipeline, image_size)
    for key in ('val_evaluator', 'test_evaluator'):
        if 'ann_file' in cfg[key]:
            cfg[key].ann_file = data_root + 'annotations/instances_val.json'

    model = cfg.model
    if model.data_preprocessor.get('size') is not None:  # mmseg pads to the crop size
        model.data_preprocessor.size = image_size
    test_cfg = model.get('test_cfg') or {}
    if 'score_thr' in test_cfg:
        test_cfg.score_thr = 0.
    if 'rcnn' in test_cfg:
        test_cfg.rcnn.score_thr = 0.

    if cfg.train_cfg.get('type') == 'IterBasedTrainLoop' or 'max_iters' in cfg.train_cfg:
        cfg.train_cfg.update(max_iters=iterations, val_interval=iterations)
    else:
        cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.default_hooks.logger.interval = 1
    return cfg


def untrained_checkpoint(config_path: str, path, **backbone) -> str:
    """A checkpoint of the (randomly initialised) model of ``config_path``, as mmengine saves
    it, with ``backbone`` settings changed."""
    from mmlow.registry import MODELS
    cfg = Config.fromfile(config_path)
    cfg.model.backbone.update(backbone)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    torch.save({'meta': {'epoch': 1, 'iter': 1, 'seed': 0}, 'state_dict': model.state_dict()},
               path)
    return str(path)


def tiny_retrieval_cfg(config_path: str, data_root: str, work_dir: str, *,
                       identities: Tuple[int, int] = (4, 3), views: int = 3,
                       image_size: int = 32, batch_size: int = 4) -> Config:
    """A shapes retrieval config on a generated split of a few small identities; one epoch,
    then one validation."""
    cfg = Config.fromfile(config_path)
    cfg.work_dir = work_dir
    generator = dict(num_train_identities=identities[0], num_test_identities=identities[1],
                     views=views, img_size=(image_size, image_size))
    for loader in [cfg[key] for key in DATALOADERS] + [cfg.model.prototype]:
        loader.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=data_root, generator=copy.deepcopy(generator))
    cfg.model.head.num_classes = identities[0]
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.default_hooks.logger.interval = 1
    return cfg
