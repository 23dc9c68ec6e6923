"""Evaluate a checkpoint of any mmlow config (COCO mAP, ADE20K mIoU, retrieval recall)."""
import argparse
import os
import os.path as osp
import sys
import warnings

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmlow  # noqa: E402,F401
from mmlow.apis import (DataMissingError, check_data, config_scope, load_config,  # noqa: E402
                        resolve_checkpoint)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (evaluate) a checkpoint')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file, or a work dir to use its latest')
    parser.add_argument('--work-dir', help='where the evaluation logs go')
    parser.add_argument('--out', help='dump the raw predictions to this pickle file')
    parser.add_argument('--show-dir', help='write images with the predictions drawn here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def enable_drawing(cfg, show_dir: str) -> None:
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


def build_cfg(args):
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = resolve_checkpoint(args.checkpoint)
    if args.show_dir:
        enable_drawing(cfg, args.show_dir)
    if args.out:
        dump = dict(type='DumpResults', out_file_path=args.out)
        evaluators = cfg.test_evaluator
        cfg.test_evaluator = (list(evaluators) if isinstance(evaluators, (list, tuple))
                              else [evaluators]) + [dump]
    if args.launcher != 'none' and not torch.cuda.is_available():
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    return cfg


def main(argv=None):
    args = parse_args(argv)
    try:
        cfg = build_cfg(args)
        check_data(cfg, splits=('test', ), config_path=args.config)
    except (DataMissingError, FileNotFoundError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.test()
    return 0


if __name__ == '__main__':
    sys.exit(main())
