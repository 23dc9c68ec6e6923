"""One prepared run that proves the GPU path on a machine with an NVIDIA GPU.

In order, each step recorded even when an earlier one failed:
1. the machine: GPU, driver-side CUDA, torch, and whether mmcv was built with CUDA ops;
2. mmcv's CUDA ops (nms, RoIAlign, sigmoid focal loss) against CPU references on the same inputs;
3. the shapes RetinaNet-LowFormer-B1 trained on the GPU for a few hundred iterations, then
   evaluated (COCO bbox mAP);
4. the latency tools' end-to-end tables for the flagship RetinaNets (800x1333) and Semantic
   FPNs (512x512) on every GPU backend, and the LowFormer papers' backbone protocol
   (TorchScript, batch 1, 224x224) for the variants with published GPU latencies.
Everything lands in one JSON report and its Markdown rendering. The training, evaluation and
timing steps run the repository's own tools in subprocesses, so the report shows what a user's
command prints.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Callable, Dict, List, Sequence

import torch

from mmlow.benchmark.pipeline import benchmark_configs
from mmlow.benchmark.record import RECORD_KEYS
from mmlow.fileio import atomic_write

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

GPU_BACKENDS = ('cuda', 'cuda-fp16', 'tensorrt')
# (config, input shape) pairs of the end-to-end CPU tables in docs/latency.md, so GPU rows sit beside them
END_TO_END = (
    ('configs/detection/retinanet_lowformer_b1_fpn_1x_coco.py', (800, 1333)),
    ('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', (800, 1333)),
    ('configs/detection/retinanet_efficientvit_m4_fpn_1x_coco.py', (800, 1333)),
    ('configs/detection/retinanet_efficientformer_l1_fpn_1x_coco.py', (800, 1333)),
    ('configs/segmentation/fpn_lowformer_b1_512x512_40k_ade20k.py', (512, 512)),
    ('mmseg::sem_fpn/fpn_r50_4xb4-160k_ade20k-512x512.py', (512, 512)),
    ('configs/segmentation/fpn_efficientvit_m4_512x512_40k_ade20k.py', (512, 512)),
    ('configs/segmentation/fpn_efficientformer_l1_512x512_40k_ade20k.py', (512, 512)),
)
# The LowFormer variants with published TITAN RTX / A40 figures (the official repository's
# README, altair199797/LowFormer, and the papers, arXiv 2409.03460 / 2603.26551); timed
# as backbones (no ImageNet head) through their RetinaNet configs.
PAPER_BACKBONES = tuple(f'configs/detection/retinanet_lowformer_{arch}_fpn_1x_coco.py'
                        for arch in ('b0', 'b1', 'b15', 'b3', 'e1', 'e2', 'e3'))
PAPER_BACKEND = 'cuda-torchscript'
TRAIN_CONFIG = 'configs/detection/retinanet_lowformer_b1_shapes.py'


class NoGPUError(RuntimeError):
    """torch sees no CUDA GPU: nothing of this check can run."""


def environment() -> dict:
    """The machine and the stack; ``install_seconds`` is the install's time (the mmcv build on a
    first run) that tools/gpu_check.sh measured before this check, when it ran first."""
    import mmcv
    from mmcv.ops import get_compiling_cuda_version
    install_seconds = os.environ.get('MMLOW_INSTALL_SECONDS')
    env = dict(python=sys.version.split()[0], torch=torch.__version__,
               torch_cuda=torch.version.cuda, mmcv=mmcv.__version__,
               mmcv_ops_cuda=get_compiling_cuda_version(),
               cuda_available=torch.cuda.is_available(),
               install_seconds=float(install_seconds) if install_seconds else None)
    if torch.cuda.is_available():
        env.update(gpus=[torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
                   capability='.'.join(map(str, torch.cuda.get_device_capability())),
                   cudnn=torch.backends.cudnn.version())
    return env


def _reference_sigmoid_focal_loss(logits, labels, gamma=2.0, alpha=0.25):
    """The focal loss of Lin et al. written out in PyTorch: mmcv's op must equal it."""
    num_classes = logits.shape[1]
    # mmcv's convention: a label equal to num_classes is background (all-zero target)
    target = torch.nn.functional.one_hot(labels, num_classes + 1)[:, :num_classes].float()
    prob = logits.sigmoid()
    p_t = prob * target + (1 - prob) * (1 - target)
    alpha_t = alpha * target + (1 - alpha) * (1 - target)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction='none')
    return (alpha_t * (1 - p_t).pow(gamma) * bce).sum()


def _op_cases(seed: int = 0) -> Dict[str, Callable[[str], Dict[str, torch.Tensor]]]:
    """Each case runs one op on a device (and a reference on the CPU) over fixed random inputs."""
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(500, 2, generator=gen) * 400
    wh = torch.rand(500, 2, generator=gen) * 100 + 4
    boxes = torch.cat([xy, xy + wh], 1)
    scores = torch.rand(500, generator=gen)
    features = torch.randn(2, 16, 50, 60, generator=gen)
    rois = torch.cat([torch.randint(0, 2, (64, 1), generator=gen).float(),
                      boxes[:64] * 0.12], 1)
    logits = torch.randn(256, 80, generator=gen) * 3
    labels = torch.randint(0, 81, (256, ), generator=gen)

    def nms_case(device):
        from mmcv.ops import nms
        _, keep = nms(boxes.to(device), scores.to(device), 0.5)
        _, reference = nms(boxes, scores, 0.5)
        return dict(got=keep.cpu().float(), expected=reference.float())

    def roi_align_case(device):
        from mmcv.ops import RoIAlign
        op = RoIAlign((7, 7), spatial_scale=1.0, sampling_ratio=2, aligned=True)
        return dict(got=op(features.to(device), rois.to(device)).cpu(),
                    expected=op(features, rois))

    def focal_loss_case(device):
        from mmcv.ops import sigmoid_focal_loss
        got = sigmoid_focal_loss(logits.to(device), labels.to(device), 2.0, 0.25, None, 'sum')
        return dict(got=got.cpu(), expected=_reference_sigmoid_focal_loss(logits, labels))

    return dict(nms=nms_case, roi_align=roi_align_case, sigmoid_focal_loss=focal_loss_case)


# nms must keep exactly the same boxes; the others are float results
OP_TOLERANCES = dict(nms=0.0, roi_align=1e-4, sigmoid_focal_loss=1e-4)


def check_ops(device: str = 'cuda') -> List[dict]:
    """One row per op: max abs difference to the CPU reference, pass/fail, or the error."""
    rows = []
    for name, case in _op_cases().items():
        row = dict(op=name, device=device, tolerance=OP_TOLERANCES[name])
        try:
            result = case(device)
            if result['got'].shape != result['expected'].shape:
                row.update(ok=False, error=f'shape {tuple(result["got"].shape)} != '
                           f'{tuple(result["expected"].shape)}')
            else:
                diff = (result['got'] - result['expected']).abs().max().item()
                scale = max(result['expected'].abs().max().item(), 1.0)
                row.update(max_abs_diff=diff, ok=diff <= OP_TOLERANCES[name] * scale)
        except Exception as exc:  # recorded in the report: one broken op must not hide the rest
            row.update(ok=False, error=f'{type(exc).__name__}: {exc}'.splitlines()[0])
        rows.append(row)
    return rows


def _run_tool(args: Sequence[str], log_path: str, timeout: float) -> dict:
    """Run one of tools/ with this Python in the repository (paths in ``args`` absolute); its
    output goes to ``log_path``. ``returncode`` is 'timeout' when ``timeout`` cut it off."""
    start = time.perf_counter()
    with open(log_path, 'w') as log:
        try:
            proc = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, stdout=log,
                                  stderr=subprocess.STDOUT, timeout=timeout)
            returncode = proc.returncode
        except subprocess.TimeoutExpired:
            returncode = 'timeout'
    return dict(returncode=returncode, seconds=round(time.perf_counter() - start, 1),
                log=log_path)


def _last_error(log_path: str) -> str:
    with open(log_path) as f:
        lines = [line.strip() for line in f if line.strip()]
    errors = [line for line in lines if line.startswith('error:') or 'Error' in line]
    return (errors or lines or ['(no output)'])[-1][:300]


def _step_failed(result: dict, step: str, run: dict, timeout: float) -> dict:
    if run['returncode'] == 'timeout':
        return dict(result, ok=False, cut_by_timeout=step,
                    error=f'{step} cut off by its time limit of {timeout:.0f} s (the check\'s '
                    f'time budget; --budget-min gives more); its log: {run["log"]}')
    return dict(result, ok=False, error=_last_error(run['log']))


def train_shapes(out_dir: str, epochs: int, budget_s: float) -> dict:
    """Train the shapes RetinaNet on the GPU for ``epochs`` epochs (200 iterations each), then
    evaluate it, within ``budget_s`` seconds: training may take half of them, the evaluation
    what training left. A step cut off by its limit is recorded as such (``cut_by_timeout``)."""
    out_dir = osp.abspath(out_dir)  # the tools run in the repository, not in our cwd
    work_dir = osp.join(out_dir, 'train_shapes')
    options = [f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}']
    train_timeout = budget_s / 2
    result = dict(config=TRAIN_CONFIG, epochs=epochs, train_timeout_s=round(train_timeout, 1))
    if budget_s <= 0:
        return dict(result, ok=False, error='skipped: the time budget was spent')
    train = _run_tool(['tools/train.py', TRAIN_CONFIG, '--work-dir', work_dir,
                       '--cfg-options', *options], osp.join(out_dir, 'train_shapes.log'),
                      train_timeout)
    result.update(train_seconds=train['seconds'], train_log=train['log'])
    if train['returncode'] != 0:
        return _step_failed(result, 'training', train, train_timeout)
    metrics_path = osp.join(work_dir, 'metrics.json')
    test_timeout = max(budget_s - train['seconds'], 1.0)
    result['test_timeout_s'] = round(test_timeout, 1)
    test = _run_tool(['tools/test.py', TRAIN_CONFIG, work_dir, '--work-dir',
                      osp.join(work_dir, 'test'), '--metrics-out', metrics_path],
                     osp.join(out_dir, 'test_shapes.log'), test_timeout)
    result.update(test_seconds=test['seconds'], test_log=test['log'])
    if test['returncode'] != 0:
        return _step_failed(result, 'evaluation', test, test_timeout)
    with open(metrics_path) as f:
        result['metrics'] = json.load(f)
    return dict(result, ok=True)


def time_config(config: str, backend: str, shape, iters: int, warmup: int,
                backbone_only: bool = False) -> dict:
    """The latency tools' measurement (mmlow.benchmark.pipeline.benchmark_configs, as tools/benchmark.py)
    of one config on one backend: its record, or why there is none."""
    row = dict(config=config, backend=backend, mode='backbone' if backbone_only else 'end2end',
               input=f'{shape[0]}x{shape[1]}')
    start = time.perf_counter()
    try:
        path = config if '::' in config else osp.join(REPO_ROOT, config)  # any cwd
        (record, ), _ = benchmark_configs([(path, None)], backend, iters, warmup,
                                          shape=tuple(shape), backbone_only=backbone_only)
        row.update(ok=True, record=record)
    except Exception as exc:  # recorded: a backend that cannot run must not hide the others
        row.update(ok=False, error=f'{type(exc).__name__}: {exc}'.splitlines()[0][:300])
    finally:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return dict(row, seconds=round(time.perf_counter() - start, 1))


def latency_jobs(backends: Sequence[str]) -> List[tuple]:
    """(config, backend, shape, backbone_only), quickest first: TensorRT's engine builds last,
    so that a spent time budget costs the fewest rows."""
    ordered = [b for b in backends if b != 'tensorrt']
    jobs = [(config, backend, shape, False) for backend in ordered
            for config, shape in END_TO_END]
    jobs += [(config, PAPER_BACKEND, (224, 224), True) for config in PAPER_BACKBONES]
    if 'tensorrt' in backends:
        jobs += [(config, 'tensorrt', shape, False) for config, shape in END_TO_END]
    return jobs


def check(out_dir: str, train_epochs: int = 2, iters: int = 30, warmup: int = 10,
          backends: Sequence[str] = GPU_BACKENDS, skip_train: bool = False,
          skip_latency: bool = False, budget_s: float = 540,
          log: Callable[[str], None] = print) -> dict:
    """The whole check; returns the report (also written to ``out_dir``). Training may take
    half of what is left of ``budget_s`` seconds after the op check, its evaluation the rest of
    that; latency rows that would start after ``budget_s`` are recorded as skipped, so the check
    ends in time."""
    if not torch.cuda.is_available():
        raise NoGPUError(
            'torch sees no CUDA GPU on this machine (torch.cuda.is_available() is False): run '
            'this on a machine with an NVIDIA GPU and its driver; the CPU figures come from '
            'tools/benchmark.py')
    out_dir = osp.abspath(out_dir)  # the report's paths stay right whatever cwd the tools get
    os.makedirs(out_dir, exist_ok=True)
    started = time.perf_counter()
    report = dict(environment=environment(), ops=[], training=None, latency=[])
    log(f'GPU: {", ".join(report["environment"]["gpus"])}; mmcv ops built with CUDA '
        f'{report["environment"]["mmcv_ops_cuda"]}')
    report['ops'] = check_ops('cuda')
    for row in report['ops']:
        log(f'op {row["op"]}: {"ok" if row["ok"] else "FAILED"} '
            f'{row.get("max_abs_diff", row.get("error", ""))}')
    if not skip_train:
        log(f'training {TRAIN_CONFIG} for {train_epochs} epochs on the GPU')
        report['training'] = train_shapes(out_dir, train_epochs,
                                          budget_s - (time.perf_counter() - started))
        log(f'training: {report["training"].get("metrics", report["training"].get("error"))}')
    if not skip_latency:
        for config, backend, shape, backbone_only in latency_jobs(backends):
            if time.perf_counter() - started > budget_s:
                row = dict(config=config, backend=backend, input=f'{shape[0]}x{shape[1]}',
                           mode='backbone' if backbone_only else 'end2end', ok=False,
                           error=f'skipped: the time budget ({budget_s:.0f} s) was spent')
            else:
                row = time_config(config, backend, shape, iters, warmup, backbone_only)
            report['latency'].append(row)
            log(f'{osp.basename(config)} {backend}: ' +
                (f'{row["record"]["median_ms"]:.2f} ms' if row['ok'] else row['error']))
            write_report(report, out_dir)  # what was measured survives a later crash
    report['total_seconds'] = round(time.perf_counter() - started, 1)
    write_report(report, out_dir)
    return report


def _latency_table(rows: List[dict]) -> List[str]:
    lines = ['| model | config | mode | backend | precision | input | median ms | p90 ms | FPS |',
             '|---|---|---|---|---|---|---|---|---|']
    for row in rows:
        if row['ok']:
            r = row['record']
            lines.append(f'| {r["model"]} | {r["config"]} | {r["mode"]} | {r["backend"]} | '
                         f'{r["precision"]} | {row["input"]} | {r["median_ms"]:.2f} | '
                         f'{r["p90_ms"]:.2f} | {r["fps"]:.1f} |')
        else:
            lines.append(f'| - | {osp.basename(row["config"])} | {row["mode"]} | '
                         f'{row["backend"]} | - | {row["input"]} | not run: {row["error"]} '
                         '| - | - |')
    return lines


def render_markdown(report: dict) -> str:
    env = report['environment']
    lines = ['# mmlow GPU check', '',
             f'GPU: {", ".join(env.get("gpus", ["none"]))} (compute capability '
             f'{env.get("capability", "-")}); torch {env["torch"]} (CUDA {env["torch_cuda"]}), '
             f'mmcv {env["mmcv"]} with ops built for CUDA {env["mmcv_ops_cuda"]}.', '',
             *([f'Install before the check (tools/gpu_check.sh; the mmcv CUDA build on a first '
                f'run): {env["install_seconds"]:.0f} s.', '']
               if env.get('install_seconds') is not None else []),
             '## mmcv CUDA ops against CPU references', '',
             '| op | max abs difference | tolerance | result |', '|---|---|---|---|']
    for row in report['ops']:
        diff = f'{row["max_abs_diff"]:.2e}' if 'max_abs_diff' in row else row.get('error', '-')
        lines.append(f'| {row["op"]} | {diff} | {row["tolerance"]} | '
                     f'{"ok" if row["ok"] else "FAILED"} |')
    training = report.get('training')
    if training:
        lines += ['', '## Shapes RetinaNet-LowFormer-B1 trained on the GPU', '']
        if training['ok']:
            metrics = training['metrics']
            shown = ', '.join(f'{key} {value:.3f}' for key, value in metrics.items()
                              if isinstance(value, (int, float)) and 'mAP' in key)
            lines.append(f'{training["epochs"]} epochs (200 iterations of batch 4 each) in '
                         f'{training["train_seconds"]:.0f} s, '
                         f'evaluation {training["test_seconds"]:.0f} s: {shown}.')
        else:
            lines.append(f'failed: {training["error"]}')
    end_to_end = [row for row in report['latency'] if row['mode'] == 'end2end']
    backbone = [row for row in report['latency'] if row['mode'] == 'backbone']
    if end_to_end:
        lines += ['', '## End-to-end latency (batch 1, random weights)', '',
                  *_latency_table(end_to_end)]
    if backbone:
        lines += ['', '## LowFormer backbones, the papers\' protocol (TorchScript, batch 1, '
                  '224x224, no ImageNet head)', '', *_latency_table(backbone)]
    if 'total_seconds' in report:
        lines += ['', f'Whole check: {report["total_seconds"]:.0f} s (install not included).']
    return '\n'.join(lines) + '\n'


def write_report(report: dict, out_dir: str) -> Dict[str, str]:
    """report.json and report.md in ``out_dir``, each written atomically."""
    for row in report['latency']:
        if row['ok']:
            missing = set(RECORD_KEYS) - set(row['record'])
            if missing:
                raise ValueError(f'latency record of {row["config"]} lacks {sorted(missing)}')
    paths = dict(json=osp.join(out_dir, 'report.json'), markdown=osp.join(out_dir, 'report.md'))
    atomic_write(json.dumps(report, indent=2, default=str), paths['json'])
    atomic_write(render_markdown(report), paths['markdown'])
    return paths
