"""Score stored tracking results (ours or any tracker's) against a dataset in its released
layout: GOT-10k AO / SR0.50 / SR0.75 (official toolkit rules) or LaSOT-style success AUC,
precision@20px and normalised precision (pytracking's rules)."""
import argparse
import json
import sys

from mmlow.evaluation import evaluate_result_dir, format_table
from mmlow.runner.tracking_test import table_keys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--format', choices=['got10k', 'lasot'], required=True)
    parser.add_argument('--data', required=True, help='dataset root (released layout)')
    parser.add_argument('--subset', help='got10k: val (default); lasot: test (default)')
    parser.add_argument('--results', required=True, help='result folder of one tracker')
    parser.add_argument('--per-sequence', action='store_true', help='also list every sequence')
    parser.add_argument('--json-out', help='write the overall scores to this JSON file')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        scores = evaluate_result_dir(args.format, args.data, args.results, args.subset)
    except (FileNotFoundError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    keys = table_keys(args.format)
    rows = {args.results: scores['overall']}
    if args.per_sequence:
        rows.update(scores['per_sequence'])
    print(format_table(rows, keys))
    if args.json_out:
        with open(args.json_out, 'w') as f:
            json.dump({k: scores['overall'][k] for k in keys}, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
