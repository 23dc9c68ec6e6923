"""The test (evaluation) config of tools/test.py: checkpoint, drawn predictions, raw dumps."""
import argparse
import numbers
import os.path as osp

from mmengine.config import Config

from .checkpoint import resolve_checkpoint
from .launch import config_scope, prepare_config
from .runs import add_dump_results


def enable_drawing(cfg: Config, show_dir: str) -> None:
    """Each OpenMMLab task spells its visualisation hook's switches differently."""
    scope = config_scope(cfg)
    hook = cfg.default_hooks.visualization
    if scope == 'mmpretrain':
        hook.update(enable=True, out_dir=show_dir)
    elif scope == 'mmseg':
        hook.update(draw=True, interval=1)
        cfg.visualizer.save_dir = show_dir
        # mmseg names its visualizer 'visualizer': a second runner in one process would get
        # the first one back, with the first one's save_dir; the runner's own name is unique
        cfg.visualizer.pop('name', None)
    else:
        hook.update(draw=True, test_out_dir=osp.abspath(show_dir))


def prepare_test_config(args: argparse.Namespace) -> Config:
    """The config of ``args.config`` set up to evaluate ``args.checkpoint`` (a file, or a work
    dir for its latest), drawing predictions into ``args.show_dir`` and dumping them to
    ``args.out`` when given."""
    cfg = prepare_config(args)
    if args.out and not cfg.get('tracking_test'):  # tracking writes its result files there
        add_dump_results(cfg, args.out)
    cfg.load_from = resolve_checkpoint(args.checkpoint)
    if args.show_dir:
        enable_drawing(cfg, args.show_dir)
    return cfg


def metrics_markdown(metrics: dict) -> str:
    """The numeric metrics of an evaluation as a two-column Markdown table."""
    rows = [(name, value) for name, value in metrics.items() if isinstance(value, numbers.Real)]
    return '\n'.join(['| metric | value |', '|---|---|'] +
                     [f'| {name} | {float(value):.4f} |' for name, value in rows])
