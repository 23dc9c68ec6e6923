"""A trained retriever beside two baselines on its test split, in one table:

- raw pixels: nearest neighbours on the flattened, normalised input images;
- untrained network: the same config's model with its random initialisation;
- trained network: the checkpoint.

    python tools/analysis/retrieval_baselines.py CONFIG CKPT_OR_WORK_DIR [--seed 0]
"""
import argparse
import json
import sys

from mmengine.config import DictAction

import mmlow  # noqa: F401
from mmlow.runner import resolve_checkpoint, run_cli
from mmlow.reports.retrieval_baselines import metrics_table, retrieval_baselines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='checkpoint file, or a work dir to use its latest')
    parser.add_argument('--seed', type=int, default=0, help='seed of the untrained network')
    parser.add_argument('--out', help='also write the figures to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)

    def compare() -> int:
        rows = retrieval_baselines(args.config, resolve_checkpoint(args.checkpoint), args.seed,
                                   args.cfg_options)
        print(metrics_table(rows))
        if args.out:
            with open(args.out, 'w') as f:
                json.dump(rows, f, indent=2)
        return 0
    return run_cli(compare)


if __name__ == '__main__':
    sys.exit(main())
