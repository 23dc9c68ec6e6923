"""Evaluate a checkpoint of any mmlow config (COCO mAP, ADE20K mIoU, retrieval recall)."""
import argparse
import numbers
import os.path as osp
import sys
import warnings

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

import mmengine  # noqa: E402

import mmlow  # noqa: E402,F401
from mmlow.apis import (DataMissingError, add_common_args, build_runner,  # noqa: E402
                        check_data, config_scope, prepare_config, resolve_checkpoint)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (evaluate) a checkpoint')
    add_common_args(parser)
    parser.add_argument('checkpoint', help='checkpoint file, or a work dir to use its latest')
    parser.add_argument('--out', help='dump the raw predictions to this pickle file')
    parser.add_argument('--show-dir', help='write images with the predictions drawn here')
    parser.add_argument('--metrics-out', help='also write the metrics to this JSON file')
    return parser.parse_args(argv)


def enable_drawing(cfg, show_dir: str) -> None:
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


def build_cfg(args):
    cfg = prepare_config(args)
    cfg.load_from = resolve_checkpoint(args.checkpoint)
    if args.show_dir:
        enable_drawing(cfg, args.show_dir)
    if args.out:
        dump = dict(type='DumpResults', out_file_path=args.out)
        evaluators = cfg.test_evaluator
        cfg.test_evaluator = (list(evaluators) if isinstance(evaluators, (list, tuple))
                              else [evaluators]) + [dump]
    return cfg


def main(argv=None):
    args = parse_args(argv)
    try:
        cfg = build_cfg(args)
        check_data(cfg, splits=('test', ), config_path=args.config)
    except (DataMissingError, FileNotFoundError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    metrics = build_runner(cfg).test()
    if args.metrics_out:
        # mmengine's file backend writes atomically once mmlow is imported
        # numbers.Real: numpy scalars too (mmseg reports float32)
        mmengine.dump({k: float(v) for k, v in metrics.items() if isinstance(v, numbers.Real)},
                      args.metrics_out, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
