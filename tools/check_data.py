"""Read every image and annotation of a config's datasets once and list every bad file, so
that a long run is not stopped by the first one it meets."""
import argparse
import sys

from mmengine.config import DictAction

import mmlow  # noqa: F401
from mmlow.runner import load_config, positive_int, run_cli
from mmlow.runner.cli import USER_ERROR_EXIT
from mmlow.runner.data_check import SPLITS, check_config_data
from mmlow.fileio import atomic_write


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Check every file of a config\'s datasets')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--splits', nargs='+', choices=SPLITS, default=list(SPLITS),
                        help='the dataloaders to check (default: all the config has)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (e.g. data_root=DIR)')
    parser.add_argument('--workers', type=positive_int, default=2,
                        help='files decoded in parallel')
    parser.add_argument('--out', help='also write the report to this text file')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of errors in the input too')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)

    def check():
        cfg = load_config(args.config, args.cfg_options)
        report = check_config_data(cfg, args.splits, args.workers)
        print(report.format())
        if args.out:
            atomic_write(report.format() + '\n', args.out)
        return 0 if report.clean else USER_ERROR_EXIT
    return run_cli(check, debug=args.debug)


if __name__ == '__main__':
    sys.exit(main())
