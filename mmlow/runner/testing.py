"""The test (evaluation) config of tools/test.py: checkpoint, drawn predictions, raw dumps."""
import argparse
import numbers
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config

from mmlow.config import config_scope
from mmlow.errors import ConfigError
from mmlow.runner.checkpoint import resolve_checkpoint
from mmlow.runner.launch import prepare_config
from mmlow.runner.runs import add_dump_results


def enable_drawing(cfg: Config, show_dir: str) -> None:
    """Each OpenMMLab task spells its visualisation hook's switches differently."""
    scope = config_scope(cfg)
    hook = cfg.default_hooks.visualization
    if scope == 'mmpretrain':
        hook.update(enable=True, out_dir=show_dir)
    elif scope == 'mmseg':
        hook.update(draw=True, interval=1)
        cfg.visualizer.save_dir = show_dir
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
    if getattr(args, 'backend', None):
        evaluate_on_backend(cfg, args.backend, args.precision, getattr(args, 'calib', None),
                            getattr(args, 'keep_float', None))
    elif getattr(args, 'precision', None):
        raise ConfigError('--precision needs --backend (e.g. --backend cpu --precision bf16)')
    return cfg


def evaluate_on_backend(cfg: Config, backend: str, precision: Optional[str] = None,
                        calibration_images: Optional[int] = None,
                        keep_float: Optional[Sequence[str]] = None) -> None:
    """Evaluate the deployed model on ``backend``: a LatencyHook that runs it there replaces
    the config's latency hooks (one hook runs the model's copy), so the metrics are those of
    what the backend computes, beside its latency. At int8 it calibrates on
    ``calibration_images`` training images, ``keep_float`` left in floating point (the
    hook's defaults when None)."""
    if cfg.get('tracking_test'):
        raise ConfigError('--backend does not apply to tracking configs: '
                          'tools/compare_trackers.py --backends runs trackers on backends')
    hooks = [hook for hook in cfg.get('custom_hooks') or [] if hook.get('type') != 'LatencyHook']
    # one warm-up iteration: the one that builds the backend is left out anyway
    latency = dict(type='LatencyHook', backend=backend, precision=precision, warmup=1)
    if calibration_images is not None:
        latency['calibration_images'] = calibration_images
    if keep_float is not None:
        latency['keep_float'] = list(keep_float)
    cfg.custom_hooks = hooks + [latency]


def metrics_markdown(metrics: dict) -> str:
    """The numeric metrics of an evaluation as a two-column Markdown table."""
    rows = [(name, value) for name, value in metrics.items() if isinstance(value, numbers.Real)]
    return '\n'.join(['| metric | value |', '|---|---|'] +
                     [f'| {name} | {float(value):.4f} |' for name, value in rows])
