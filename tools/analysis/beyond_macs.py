"""The "beyond MACs" table: every backbone's GMACs, parameters and measured latency on each CPU
backend and precision, with the Spearman rank correlation of MACs vs latency per backend and a
plot. Run it on your own device: the point is that MACs do not predict its latency.

    python tools/analysis/beyond_macs.py [--models lowformer_b1 ...] [--sizes 224 512]
        [--backends cpu torchscript onnxruntime openvino openvino/bf16] [--repeats 10]
        [--calib N] [--calib-config CONFIG] [--threads N] [--out-dir DIR]

Batch 1, random weights, each backbone deployed (BN fused) and checked against eager on every
backend; the backends of one (model, size) are timed interleaved. int8 variants (e.g.
openvino/int8) are quantized on --calib images of --calib-config's training set. Writes beyond_macs.md,
beyond_macs.json, beyond_macs.png and .svg to --out-dir.
"""
import argparse
import json
import os
import os.path as osp
import sys

import torch
from tqdm import tqdm

import mmlow  # noqa: F401
from mmlow.deploy.quantize import backbone_calibration
from mmlow.runner.cli import add_calibration_args, backend_argument
from mmlow.reports.beyond_macs import (ALL_BACKBONES, CPU_VARIANTS,
                                         beyond_macs_plot, beyond_macs_table,
                                         measure_backbones, variant_name)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--models', nargs='+', default=list(ALL_BACKBONES))
    parser.add_argument('--sizes', nargs='+', type=int, default=[224, 512])
    parser.add_argument('--backends', nargs='+', type=backend_argument,
                        default=list(CPU_VARIANTS), help='NAME[/PRECISION] each')
    add_calibration_args(parser, config_option=True)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--threads', type=int)
    parser.add_argument('--out-dir', default='work_dirs/beyond_macs')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    calibration = None
    if any(precision == 'int8' for _, precision in args.backends):
        calibration = backbone_calibration(args.calib_config, args.calib, args.keep_float)
    rows = list(tqdm(measure_backbones(args.models, args.sizes, args.backends, args.repeats,
                                       calibration=calibration),
                     total=len(args.models) * len(args.sizes), desc='backbones x sizes'))
    table = (f'torch {torch.__version__}, {torch.get_num_threads()} threads, batch 1, '
             f'backends {", ".join(map(variant_name, args.backends))}\n\n' +
             beyond_macs_table(rows))
    print(table)
    stem = osp.join(args.out_dir, 'beyond_macs')
    with open(f'{stem}.md', 'w') as f:
        f.write(table + '\n')
    with open(f'{stem}.json', 'w') as f:
        json.dump(rows, f, indent=2)
    print('wrote', ', '.join([f'{stem}.md', f'{stem}.json'] + beyond_macs_plot(rows, stem)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
