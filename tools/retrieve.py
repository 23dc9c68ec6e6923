"""Draw each query image beside its top-K gallery images (right / wrong when labels are known).

    python tools/retrieve.py CONFIG CKPT --query IMG [IMG ...] [--gallery DIR] --topk K \
        --out grid.png

Without --gallery the config's gallery dataset is searched (labels known: green = same
identity, red = another); with --gallery DIR every image under DIR (no labels: grey frames).
"""
import argparse
import sys

import mmengine
from mmengine.config import DictAction

import mmlow  # noqa: F401
from mmlow.runner import resolve_checkpoint, run_cli
from mmlow.apis.retrieval import draw_retrieval_grid, retrieve
from mmlow.fileio import ATOMIC


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Query a trained retriever and draw the result')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='checkpoint file, or a work dir to use its latest')
    parser.add_argument('--query', nargs='+', required=True, help='query image files')
    parser.add_argument('--gallery', help="folder of gallery images (default: the config's "
                        'gallery dataset)')
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--out', default='retrieval.png', help='picture to write')
    parser.add_argument('--json', help='also write the neighbours and scores here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.topk <= 0:
        print('error: --topk must be > 0', file=sys.stderr)
        return 2

    def search_and_draw():
        results = retrieve(args.config, resolve_checkpoint(args.checkpoint), args.query,
                           args.topk, args.gallery, args.cfg_options)
        print(f'wrote {draw_retrieval_grid(results, args.out)}')
        if args.json:
            mmengine.dump(results, args.json, indent=2, backend_args=ATOMIC)
        return 0
    return run_cli(search_and_draw, user_errors=(FileNotFoundError, ValueError))


if __name__ == '__main__':
    sys.exit(main())
