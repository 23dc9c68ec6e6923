"""What each precision costs in accuracy: checkpoints evaluated as eager fp32 and deployed on each
backend and precision (int8: post-training quantized, calibrated on the config's training
images), one table.

    python tools/analysis/precision_accuracy.py CONFIG CKPT [CONFIG CKPT ...]
        [--variants cpu/fp32 openvino/bf16 onnxruntime/int8 openvino/int8] [--calib N]
        [--keep-float first_conv output_convs] [--out-dir DIR]

Detectors (bbox mAP, Mask R-CNN also segm mAP), segmenters (mIoU) and retrievers (Recall@1) are
evaluated on their test split as tools/test.py --backend B --precision P evaluates them; a
tracking config's tracker runs its two graphs on the backend over the held-out sequences (AO).
Writes precision_accuracy.md and .json to --out-dir.
"""
import argparse
import json
import os
import os.path as osp
import sys

import mmlow  # noqa: F401
from mmlow.reports.precisions import VARIANTS, precision_metrics, precision_table
from mmlow.runner import resolve_checkpoint, run_cli
from mmlow.runner.cli import add_calibration_args, backend_argument


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('pairs', nargs='+', metavar='CONFIG CKPT',
                        help='configs, each followed by its checkpoint (or work dir)')
    parser.add_argument('--variants', nargs='+', type=backend_argument, default=list(VARIANTS),
                        help='NAME/PRECISION each; cpu/fp32 (eager) is always the baseline')
    add_calibration_args(parser)
    parser.add_argument('--out-dir', default='work_dirs/precision_accuracy')
    args = parser.parse_args(argv)
    if len(args.pairs) % 2:
        parser.error('give each config with its checkpoint: CONFIG CKPT [CONFIG CKPT ...]')
    variants = [('cpu', 'fp32')] + [v for v in args.variants if v != ('cpu', 'fp32')]

    def evaluate() -> int:
        results = {}
        for config, checkpoint in zip(args.pairs[::2], args.pairs[1::2]):
            name = osp.splitext(osp.basename(config))[0]
            results[name] = precision_metrics(config, resolve_checkpoint(checkpoint),
                                              osp.join(args.out_dir, name), variants,
                                              args.calib, args.keep_float)
        table = (f'int8: calibrated on {args.calib} training images (tracking: pairs) of each '
                 f'config, kept in floating point: {", ".join(args.keep_float) or "nothing"}'
                 '\n\n' + precision_table(results))
        print(table)
        os.makedirs(args.out_dir, exist_ok=True)
        stem = osp.join(args.out_dir, 'precision_accuracy')
        with open(f'{stem}.md', 'w') as f:
            f.write(table + '\n')
        with open(f'{stem}.json', 'w') as f:
            json.dump(results, f, indent=2)
        print(f'wrote {stem}.md, {stem}.json')
        return 0
    return run_cli(evaluate)


if __name__ == '__main__':
    sys.exit(main())
