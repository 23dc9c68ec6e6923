"""Generate the synthetic shapes dataset (COCO instances + semantic maps).

Example::

    python tools/dataset_converters/make_shapes.py --out data/shapes
"""
import argparse
import os.path as osp
import shutil

from mmlow.datasets.shapes import SIZE_RANGE, ensure_shapes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the synthetic shapes dataset.')
    parser.add_argument(
        '--out', default='data/shapes', help='output folder')
    parser.add_argument(
        '--num-train', type=int, default=800, help='number of train images')
    parser.add_argument(
        '--num-val', type=int, default=100, help='number of val images')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(192, 192),
        metavar=('H', 'W'),
        help='image height and width')
    parser.add_argument('--seed', type=int, default=0, help='base seed')
    parser.add_argument(
        '--size-range',
        type=float,
        nargs=2,
        default=SIZE_RANGE,
        metavar=('MIN', 'MAX'),
        help='shape size as a fraction of the shorter image side')
    parser.add_argument(
        '--force',
        action='store_true',
        help='delete an existing output folder and regenerate it')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.force and osp.exists(args.out):
        shutil.rmtree(args.out)
    ensure_shapes(
        args.out,
        num_train=args.num_train,
        num_val=args.num_val,
        img_size=tuple(args.size),
        seed=args.seed,
        size_range=tuple(args.size_range))


if __name__ == '__main__':
    main()
