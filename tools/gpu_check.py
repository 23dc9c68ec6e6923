"""Prove the GPU path on a machine with an NVIDIA GPU, in one run (see mmlow.reports.gpu_check):
mmcv's CUDA ops against CPU references, the shapes RetinaNet trained on the GPU, and the
end-to-end latency tables on cuda / cuda-fp16 / tensorrt. Writes report.json and report.md.

    python tools/gpu_check.py [--out-dir DIR] [--train-epochs E] [--iters N] [--warmup W]
                              [--backends cuda cuda-fp16 tensorrt] [--budget-min M]
                              [--skip-train] [--skip-latency]
(tools/gpu_check.sh installs the stack, mmcv with CUDA ops included, and then runs this.)
"""
import argparse
import sys

from mmlow.reports import gpu_check


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out-dir', default='work_dirs/gpu_check')
    parser.add_argument('--train-epochs', type=int, default=2,
                        help='shapes RetinaNet epochs of 200 iterations (default 2)')
    parser.add_argument('--iters', type=int, default=30, help='timed iterations per row')
    parser.add_argument('--warmup', type=int, default=10)
    parser.add_argument('--backends', nargs='+', choices=gpu_check.GPU_BACKENDS,
                        default=list(gpu_check.GPU_BACKENDS))
    parser.add_argument('--budget-min', type=float, default=9,
                        help='latency rows that would start later are recorded as skipped')
    parser.add_argument('--skip-train', action='store_true')
    parser.add_argument('--skip-latency', action='store_true')
    args = parser.parse_args(argv)
    for name in ('train_epochs', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1')
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        report = gpu_check.check(args.out_dir, args.train_epochs, args.iters, args.warmup,
                                 args.backends, args.skip_train, args.skip_latency,
                                 budget_s=args.budget_min * 60)
    except gpu_check.NoGPUError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    print(gpu_check.render_markdown(report))
    print(f'report: {args.out_dir}/report.json, {args.out_dir}/report.md')
    failed = [row['op'] for row in report['ops'] if not row['ok']]
    return 1 if failed or (report['training'] and not report['training']['ok']) else 0


if __name__ == '__main__':
    sys.exit(main())
