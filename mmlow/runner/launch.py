"""What tools/train.py and tools/test.py share: config loading and the checks that must fail
early, with a message a person can act on, instead of deep inside a dataloader."""
import argparse
import glob
import os
import os.path as osp
from typing import Iterator, List, Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import DATASETS, RUNNERS, init_default_scope
from mmengine.runner import Runner

from mmlow.config import config_scope, load_config
from mmlow.datasets.shapes import not_generated_yet
from mmlow.datasets.validation import dataset_paths, leaf_datasets
from mmlow.errors import ConfigError, DataMissingError
from mmlow.models.wiring import check_neck_fits_backbone

def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Arguments every tool that runs a config takes (as OpenMMLab's own tools name them)."""
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument('--strict', type=_boolean, default=True, metavar='{true,false}',
                        help='refuse a checkpoint whose weights do not all fit the model '
                        '(default true); false loads the matching ones and warns')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of errors in the input too')


def _boolean(text: str) -> bool:
    if text.lower() not in ('true', 'false'):
        raise argparse.ArgumentTypeError(f'expected true or false, not {text!r}')
    return text.lower() == 'true'


def prepare_config(args: argparse.Namespace) -> Config:
    """The config with the common arguments applied."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.launcher != 'none' and not torch.cuda.is_available():
        # OpenMMLab's runtime bases ask for nccl, which needs GPUs, and mmengine hands DDP a
        # CUDA device id: CPU processes talk over gloo, and DDP gets no device
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
        if cfg.get('model_wrapper_cfg') is None:
            cfg.model_wrapper_cfg = dict(
                type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
                find_unused_parameters=cfg.get('find_unused_parameters', False))
    return cfg


def build_runner(cfg: Config) -> Runner:
    if isinstance(cfg.get('visualizer'), dict):
        # OpenMMLab's runtime bases name every visualizer 'visualizer', and mmengine hands a
        # second runner in the same process the first one's instance, which writes into the
        # first run's work dir; unnamed, each runner's visualizer is named after its run
        cfg.visualizer.pop('name', None)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    check_neck_fits_backbone(getattr(runner.model, 'module', runner.model))
    return runner


def _expected_paths(scope: str, dataset: dict) -> List[str]:
    root = dataset.get('data_root') or ''
    listed = getattr(_dataset_class(scope, dataset.get('type')), 'expected_files', None)
    if listed is not None:  # readers of released layouts name their own files
        return [osp.join(root, path) for path in listed(dataset.get('split'))]
    ann_file, prefixes = dataset_paths(dataset)
    return ([ann_file] if ann_file else []) + list(prefixes.values())


def _dataset_class(scope: str, type_name):
    if not isinstance(type_name, str):
        return type_name
    with DATASETS.switch_scope_and_registry(scope) as registry:
        return registry.get(type_name)


def _is_self_generating(scope: str, type_name) -> bool:
    return bool(getattr(_dataset_class(scope, type_name), 'self_generating', False))


def _check_own_sources(scope: str, dataset: dict) -> bool:
    """Datasets made of readers (tracking) check their sources themselves; they raise a
    FileNotFoundError naming what is missing."""
    check = getattr(_dataset_class(scope, dataset.get('type')), 'check_sources', None)
    if check is None:
        return False
    check(dataset)
    return True


def _shapes_alternative(config_path: Optional[str]) -> str:
    """The shapes config closest to ``config_path``: its own swap if there is one, else the
    same task's LowFormer-B1 one."""
    found = sorted(glob.glob(osp.join('configs', '**', '*_shapes.py'), recursive=True))
    if config_path:
        stem = osp.splitext(config_path)[0]
        # retinanet_x_fpn_1x_coco.py -> retinanet_x_shapes.py, fpn_x_512x512_40k_ade20k.py ->
        # fpn_x_shapes.py
        for token in ('_fpn_1x_coco', '_coco', '_512x512', '_ade20k'):
            candidate = stem.rsplit(token, 1)[0] + '_shapes.py'
            if token in stem and osp.isfile(candidate):
                return candidate
        task = osp.basename(stem).split('_')[0]
        same_task = [path for path in found if osp.basename(path).split('_')[0] == task]
        if same_task:
            return next((path for path in same_task if '_lowformer_b1_' in path), same_task[0])
    return found[0] if found else 'configs/detection/retinanet_lowformer_b1_shapes.py'


def _evaluator_ann_files(cfg: Config, split: str) -> List[str]:
    evaluators = cfg.get(f'{split}_evaluator') or []
    if isinstance(evaluators, dict):
        evaluators = evaluators.get('metrics', [evaluators])
    return [evaluator['ann_file'] for evaluator in evaluators
            if isinstance(evaluator, dict) and evaluator.get('ann_file')]


def check_data(cfg: Config, splits=('train', 'val', 'test'),
               config_path: Optional[str] = None) -> None:
    """Raise DataMissingError naming every missing file/folder the config's datasets and
    evaluators read; a ConfigError when an evaluator scores against other annotations than its
    dataset's. Datasets that make their own data are checked once they have made it."""
    scope = config_scope(cfg)
    init_default_scope(scope)
    missing, expected = [], []

    def expect(path):
        if path not in expected:
            expected.append(path)
            if not osp.exists(path) or (osp.isdir(path) and not os.listdir(path)):
                missing.append(path)

    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        to_generate, ann_files = [], []
        for dataset in leaf_datasets(loader['dataset']):
            if _check_own_sources(scope, dataset):
                continue
            if _is_self_generating(scope, dataset.get('type')) and \
                    not_generated_yet(dataset.get('data_root') or ''):
                to_generate.append(osp.abspath(dataset.get('data_root') or ''))
                continue
            for path in _expected_paths(scope, dataset):
                expect(path)
            ann_file, _ = dataset_paths(dataset)
            if ann_file:
                ann_files.append(ann_file)
        for ann_file in _evaluator_ann_files(cfg, split):
            if any(osp.abspath(ann_file).startswith(root + os.sep) for root in to_generate):
                continue
            expect(ann_file)
            if osp.exists(ann_file) and ann_files and \
                    osp.abspath(ann_file) not in map(osp.abspath, ann_files):
                raise ConfigError(
                    f'{split}_evaluator.ann_file {ann_file!r} is not the annotation file of '
                    f'the {split} dataset ({", ".join(ann_files)}): the metric would score '
                    'against other annotations. Point both at the same file (or override '
                    'data_root alone, which moves both)')
    if missing:
        def mark(path):
            if path not in missing:
                return '          '
            return '[empty]   ' if osp.isdir(path) else '[missing] '
        layout = '\n'.join(f'  {mark(p)}{p}' for p in expected)
        raise DataMissingError(
            f'the dataset this config reads is not there (working directory {os.getcwd()}).\n'
            f'Expected layout:\n{layout}\n'
            'Download the dataset into that layout, or link it there (e.g. '
            '`ln -s /path/to/coco data/coco`), or point the config at it with '
            '--cfg-options data_root=DIR.\n'
            f'To try mmlow without it, run the embedded synthetic data instead:\n'
            f'  python tools/train.py {_shapes_alternative(config_path)}')


def _pretrained_paths(node) -> Iterator[str]:
    if isinstance(node, dict):
        init_cfg = node.get('init_cfg')
        for item in init_cfg if isinstance(init_cfg, list) else [init_cfg]:
            if isinstance(item, dict) and item.get('type') == 'Pretrained':
                yield item.get('checkpoint')
        for value in node.values():
            yield from _pretrained_paths(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _pretrained_paths(value)


def check_pretrained(cfg: Config) -> None:
    """Fail before training starts when a local pretrained checkpoint is not there."""
    for path in _pretrained_paths(cfg.get('model', {})):
        if isinstance(path, str) and '://' not in path and not osp.isfile(path):
            raise DataMissingError(
                f'pretrained backbone checkpoint {path!r} does not exist. Download the '
                'ImageNet weights (official repository or timm) and convert them:\n'
                f'  python tools/convert_checkpoint.py SRC {path} --arch <family>_<variant>\n'
                'or train from scratch with --cfg-options model.backbone.init_cfg=None')


# what a tracker's crops are, declared for the model (tracking) and its training pairs
CROP_SETTINGS = ('template_size', 'search_size', 'template_factor', 'search_factor')


def check_crop_settings(cfg: Config) -> None:
    """A ConfigError when the training pairs are cropped otherwise than the model tracks (a
    ``--cfg-options`` that changed one side only)."""
    model = cfg.get('model') or {}
    dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    differing = [f'model.{key}={model[key]} but train_dataloader.dataset.{key}={dataset[key]}'
                 for key in CROP_SETTINGS if key in model and key in dataset
                 and model[key] != dataset[key]]
    if differing:
        raise ConfigError(f'the training pairs are not cropped as the tracker tracks: '
                          f'{"; ".join(differing)}. Set both to the same value')
