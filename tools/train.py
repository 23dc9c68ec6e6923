"""Train any mmlow config (mmdet, mmseg or mmpretrain scope) with mmengine's Runner."""
import argparse
import os
import sys

import mmlow  # noqa: F401  (registry + stack fixes)
from mmlow.runner import add_common_args, enable_amp, prepare_config, run_cli, run_training


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a detector, segmenter or retriever')
    add_common_args(parser)
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from this checkpoint, or with no value from the latest '
                        'checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', help='mixed precision training (float16 '
                        'on a GPU, bfloat16 on a CPU)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate with the total batch size')
    return parser.parse_args(argv)


def build_cfg(args):
    cfg = prepare_config(args)
    if args.amp:
        enable_amp(cfg)
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
        if os.path.isdir(args.resume) and not args.work_dir:
            cfg.work_dir = args.resume  # a copied work dir continues in the copy
    return cfg


def main(argv=None):
    args = parse_args(argv)

    def train():
        run_training(build_cfg(args), strict=args.strict, config_path=args.config)
        return 0
    return run_cli(train, debug=args.debug)


if __name__ == '__main__':
    sys.exit(main())
