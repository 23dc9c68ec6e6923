"""Train any mmlow config (mmdet, mmseg or mmpretrain scope) with mmengine's Runner."""
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

import mmlow  # noqa: E402,F401  (registry + stack fixes)
from mmlow.apis import DataMissingError, check_data, check_pretrained, load_config  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a detector, segmenter or retriever')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from this checkpoint, or with no value from the latest '
                        'checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', help='mixed precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate with the total batch size')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_cfg(args):
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    if args.launcher != 'none' and not torch.cuda.is_available():
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = build_cfg(args)
    try:
        check_data(cfg, config_path=args.config)
        check_pretrained(cfg)
    except DataMissingError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()
    return 0


if __name__ == '__main__':
    sys.exit(main())
