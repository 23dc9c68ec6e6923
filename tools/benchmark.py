"""End-to-end latency and FPS of a detector, segmenter or classifier config on one device,
outside training: the LatencyHook's measurement on synthetic images.

    python tools/benchmark.py CONFIG [CKPT] --device D [--precision P] [--shape H W]
                              [--batch B] [--iters N] [--warmup W] [--backbone-only]
                              [--vs OTHER_CONFIG [OTHER_CKPT]] [--threads T] [--out results.json]

A batch of random uint8 images of size H x W goes through the model's real data preprocessor,
its tensor forward on the device's backend (deployed: BN fused; checked against eager before
timing) and its real post-processing (NMS and box rescaling, logit resizing). With
--backbone-only only the backbone's forward is timed, on a normalised random tensor.
--vs times a second config in the same process, interleaved with the first, and prints the
ratio of their median latencies. Devices: see mmlow.benchmark.BACKENDS.
Prints one Markdown row per model and writes the records (mmlow.benchmark.RECORD_KEYS) as a
JSON list to --out.
"""
import argparse
import json
import os
import os.path as osp
import sys
import warnings

warnings.filterwarnings('ignore')

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

import mmlow  # noqa: E402,F401
from mmlow.benchmark import (BACKENDS, BackendModel, BackendUnavailableError,  # noqa: E402
                             OutputMismatchError, build_backend, latency_stats, make_record,
                             synthetic_batch, time_interleaved)
from mmlow.benchmark.loading import DEFAULT_SHAPES, model_from_config  # noqa: E402
from mmlow.benchmark.record import model_name  # noqa: E402

TABLE_HEADER = ('| model | config | mode | device | precision | input | batch | median ms/img '
                '| p90 ms/img | FPS |\n|---|---|---|---|---|---|---|---|---|---|')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', help='weights (default: random)')
    parser.add_argument('--device', default='cpu', choices=list(BACKENDS))
    parser.add_argument('--precision', help='where the device has a choice (openvino: bf16)')
    parser.add_argument('--shape', nargs=2, type=int, metavar=('H', 'W'),
                        help='image size fed to the data preprocessor (default: 800 1344 for '
                        'detectors, 512 512 for segmenters, 224 224 otherwise)')
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--iters', type=int, default=50, help='timed iterations')
    parser.add_argument('--warmup', type=int, default=10)
    parser.add_argument('--backbone-only', action='store_true')
    parser.add_argument('--vs', nargs='+', metavar=('OTHER_CONFIG', 'OTHER_CKPT'),
                        help='a second config (and checkpoint) to time interleaved')
    parser.add_argument('--threads', type=int, help='torch / backend CPU threads')
    parser.add_argument('--out', help='write the records here (JSON list)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides for every config, key=value')
    args = parser.parse_args(argv)
    if args.vs and len(args.vs) > 2:
        parser.error('--vs takes a config and optionally its checkpoint')
    return args


class Candidate:
    """One config made ready to time: a callable that runs one iteration, and its record."""

    def __init__(self, config, checkpoint, args):
        model, scope = model_from_config(config, checkpoint, args.cfg_options)
        self.config = osp.basename(config)
        self.name = model_name(model)
        self.shape = tuple(args.shape or DEFAULT_SHAPES[scope])
        if args.backbone_only:
            inputs = torch.randn(args.batch, 3, *self.shape)
            forward = build_backend(args.device, model.backbone, inputs, args.precision)
            self.precision, self.input_shape = forward.precision, list(inputs.shape)
            self.run = lambda: forward(inputs)
        else:
            backend_model = BackendModel(model, args.device, args.precision)
            data = synthetic_batch(scope, self.shape, args.batch)
            backend_model.test_step(data)  # builds (and checks) the backend
            self.precision = backend_model.precision
            (self.input_shape, ) = [list(shape) for shape in backend_model.builds]
            self.run = lambda: backend_model.test_step(data)

    def record(self, times_ms, args) -> dict:
        return make_record(
            model=self.name, config=self.config, phase='benchmark',
            mode='backbone' if args.backbone_only else 'end2end', backend=args.device,
            device=BACKENDS[args.device].device, precision=self.precision, deploy=True,
            batch_size=args.batch, input_shape=self.input_shape, warmup=args.warmup,
            stats=latency_stats(times_ms, [args.batch] * len(times_ms)))


def markdown_row(record: dict) -> str:
    return (f'| {record["model"]} | {record["config"]} | {record["mode"]} | '
            f'{record["backend"]} | {record["precision"]} | '
            f'{"x".join(map(str, record["input_shape"][2:]))} | {record["batch_size"]} | '
            f'{record["median_ms"]:.2f} | {record["p90_ms"]:.2f} | {record["fps"]:.2f} |')


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    configs = [(args.config, args.checkpoint)]
    if args.vs:
        configs.append((args.vs[0], args.vs[1] if len(args.vs) > 1 else None))
    try:
        candidates = [Candidate(config, checkpoint, args) for config, checkpoint in configs]
    except (BackendUnavailableError, OutputMismatchError, FileNotFoundError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    sync = torch.cuda.synchronize if BACKENDS[args.device].device == 'cuda' else lambda: None
    timings = time_interleaved({str(i): c.run for i, c in enumerate(candidates)},
                               repeats=args.iters, warmup=args.warmup, sync=sync)
    records = [c.record(timings[str(i)]['times_ms'], args) for i, c in enumerate(candidates)]
    print(f'{records[0]["hardware"]}, torch {torch.__version__}, {torch.get_num_threads()} '
          f'threads; per-image latency over {args.iters} iterations after {args.warmup} '
          'warm-up')
    print(TABLE_HEADER)
    for record in records:
        print(markdown_row(record))
    if args.vs:
        ratio = records[0]['median_ms'] / records[1]['median_ms']
        print(f'ratio {records[0]["config"]} / {records[1]["config"]} (median latency): '
              f'{ratio:.3f}')
    if args.out:
        if osp.dirname(args.out):
            os.makedirs(osp.dirname(args.out), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(records, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
