"""Convert an official or timm backbone checkpoint into mmlow's layout.

    python tools/convert_checkpoint.py SRC DST --arch lowformer_b1

The source layout is detected from the keys; the result is checked by loading it into the
model before it is written (atomically). It holds ``backbone.*`` (and ``head.*`` when the source
had a classifier), the layout of an mmpretrain ImageClassifier; use it in a config with
``init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='backbone.')``.
"""
import argparse
import sys

import mmlow  # noqa: F401
from mmlow.runner import run_cli
from mmlow.runner.convert import convert_file
from mmlow.models.classifiers import BACKBONES


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='official or timm checkpoint (.pth/.pt/.bin/.safetensors)')
    parser.add_argument('dst', help='output .pth in mmlow layout')
    parser.add_argument('--arch', required=True,
                        help=f'<family>_<variant>, family in {sorted(BACKBONES)}, '
                        'e.g. lowformer_b1')
    args = parser.parse_args(argv)

    def convert():
        layout = convert_file(args.src, args.dst, args.arch)
        print(f'converted {args.src} ({layout} layout) -> {args.dst} ({args.arch})')
        return 0
    # ValueError: CheckpointError, WeightsMismatchError, an unknown name
    return run_cli(convert, user_errors=(ValueError, ))


if __name__ == '__main__':
    sys.exit(main())
