"""Print params and MACs of every backbone variant beside the papers' figures (Markdown).

    python tools/analysis/model_table.py [--size H W] [--families lowformer ...]

Counts are of the classification model (backbone + its ImageNet head), as the papers count;
see mmlow.reports.model_table.
"""
import argparse

import mmlow  # noqa: F401
from mmlow.reports.model_table import PAPER, model_table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', nargs=2, type=int, default=(224, 224), metavar=('H', 'W'),
                        help='also count MACs at this input size')
    parser.add_argument('--families', nargs='+', default=sorted(PAPER), choices=sorted(PAPER))
    args = parser.parse_args(argv)
    for line in model_table(args.families, args.size):
        print(line, flush=True)


if __name__ == '__main__':
    main()
