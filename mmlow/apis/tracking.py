"""What the tracking tools share: build a tracker from a config + checkpoint, run it over a
dataset writing the toolkits' result files, score them, export the two ONNX graphs, and the
synthetic-data comparison against the baselines."""
import os
import os.path as osp
import time
from typing import Dict, Optional, Sequence, Tuple

import cv2
import mmengine
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DATASETS, MODELS, init_default_scope

from mmlow.benchmark import BackendUnavailableError, available_backends
from mmlow.benchmark.tracking import benchmark_tracker
from mmlow.checkpoint import load_checkpoint
from mmlow.datasets.tracking import read_image
from mmlow.evaluation.tracking import (evaluate_result_dir, format_table, write_got10k_result)
from mmlow.fileio import ATOMIC, IMAGE_SUFFIXES
from mmlow.models.tracking import (CropTracker, NCCTracker, SearchBranch, StaticTracker,
                                   TemplateBranch)

GOT10K_KEYS = ('AO', 'SR0.50', 'SR0.75', 'FPS')
COMPARE_KEYS = GOT10K_KEYS + ('median ms/frame', )
CPU_BACKENDS = ('cpu', 'torchscript', 'onnxruntime', 'openvino')
OPE_KEYS = ('AUC', 'P20', 'P_norm', 'FPS')


def is_tracking_config(cfg: Config) -> bool:
    return cfg.get('model', {}).get('type') == 'OneStreamTracker'


def build_tracker_model(cfg: Config, checkpoint: Optional[str] = None,
                        strict: bool = True) -> torch.nn.Module:
    """The model of a tracking config, with a checkpoint's weights (mmlow.checkpoint)."""
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    model = MODELS.build(cfg.model)
    if checkpoint:
        load_checkpoint(model, checkpoint, strict)
    return model.eval()


def track_sequence(tracker, frames: Sequence[str], init_box) -> Tuple[np.ndarray, np.ndarray]:
    """Boxes (first = the given box) and per-frame seconds (first = the initialisation)."""
    boxes, times = [np.asarray(init_box, dtype=np.float64)], []
    start = time.perf_counter()
    tracker.init(read_image(frames[0]), init_box)
    times.append(time.perf_counter() - start)
    for path in frames[1:]:
        frame = read_image(path)
        start = time.perf_counter()
        boxes.append(np.array(tracker.track(frame), dtype=np.float64))
        times.append(time.perf_counter() - start)
    return np.stack(boxes), np.array(times)


def run_on_dataset(tracker, reader, result_dir: str) -> np.ndarray:
    """Track every sequence of a reader; results in GOT-10k's layout
    (``{seq}/{seq}_001.txt``, ``{seq}/{seq}_time.txt``). Returns the per-frame seconds of all
    tracked frames (initialisations excluded)."""
    frame_times = []
    for seq in reader:
        boxes, times = track_sequence(tracker, seq.frames, seq.boxes[0])
        write_got10k_result(result_dir, seq.name, boxes, times)
        frame_times.append(times[1:])
    return np.concatenate(frame_times)


def evaluate_config(cfg: Config, result_dir: str) -> Dict:
    """Score stored results on the config's ``tracking_test`` dataset."""
    test = cfg.tracking_test
    reader_cfg = dict(test.reader)
    reader = DATASETS.build(reader_cfg)
    root = reader.root if hasattr(reader, 'root') else reader_cfg['root']
    return evaluate_result_dir(test.format, root, result_dir, getattr(reader, 'subset', None))


def run_tracking_test(cfg: Config, checkpoint: str, result_dir: str,
                      strict: bool = True) -> Dict:
    """tools/test.py for tracking configs: track the test set, write results, print scores."""
    model = build_tracker_model(cfg, checkpoint, strict)
    reader = DATASETS.build(dict(cfg.tracking_test.reader))
    with torch.no_grad():
        run_on_dataset(CropTracker.from_model(model), reader, result_dir)
    return evaluate_config(cfg, result_dir)


def evaluate_tracking_checkpoint(cfg: Config, out: Optional[str] = None,
                                 metrics_out: Optional[str] = None, strict: bool = True) -> str:
    """tools/test.py for tracking configs: results under ``out`` (default
    ``<work_dir>/results``), scores as a table (and as JSON in ``metrics_out``)."""
    result_dir = out or osp.join(cfg.work_dir, 'results')
    scores = run_tracking_test(cfg, cfg.load_from, result_dir, strict)['overall']
    keys = table_keys(cfg.tracking_test.format)
    if metrics_out:
        mmengine.dump({key: float(scores[key]) for key in keys}, metrics_out, indent=2,
                      backend_args=ATOMIC)
    return format_table({result_dir: scores}, keys)


def table_keys(fmt: str):
    return GOT10K_KEYS if fmt == 'got10k' else OPE_KEYS


# ---- ONNX ---------------------------------------------------------------------------------

def export_tracker_onnx(model, out_dir: str, opset: int = 17) -> Tuple[str, str]:
    """Two graphs: template branch (crop -> features) and search branch (crop + features ->
    score probabilities, offsets, sizes). Inputs are BGR 0..255 float crops."""
    os.makedirs(out_dir, exist_ok=True)
    model.eval()
    template = torch.rand(1, 3, model.template_size, model.template_size) * 255
    search = torch.rand(1, 3, model.search_size, model.search_size) * 255
    template_path = osp.join(out_dir, 'template_branch.onnx')
    search_path = osp.join(out_dir, 'search_branch.onnx')
    with torch.no_grad():
        template_feat = model.template_features(template)
        # eval() on the wrappers too: the exporter restores the wrapper's mode afterwards, and
        # a fresh wrapper is in training mode, which would switch the tracker to it
        torch.onnx.export(TemplateBranch(model).eval(), (template, ), template_path,
                          input_names=['template'], output_names=['template_feat'],
                          opset_version=opset, dynamo=False)
        torch.onnx.export(SearchBranch(model).eval(), (search, template_feat), search_path,
                          input_names=['search', 'template_feat'],
                          output_names=['score', 'offset', 'size'], opset_version=opset,
                          dynamo=False)
    return template_path, search_path


@torch.no_grad()
def tracker_onnx_error(model, template_path: str, search_path: str, seed: int = 0) -> float:
    """Largest absolute difference between the two ONNX Runtime graphs, chained as the
    tracker chains them, and eager PyTorch on random crops (score as probabilities)."""
    import onnxruntime as ort
    gen = torch.Generator().manual_seed(seed)
    template = torch.rand(1, 3, model.template_size, model.template_size, generator=gen) * 255
    search = torch.rand(1, 3, model.search_size, model.search_size, generator=gen) * 255
    feat = model.template_features(template)
    score, offset, size = model.search_forward(search, feat)
    sessions = [ort.InferenceSession(path, providers=['CPUExecutionProvider'])
                for path in (template_path, search_path)]
    onnx_feat = sessions[0].run(None, {'template': template.numpy()})[0]
    outputs = sessions[1].run(None, {'search': search.numpy(), 'template_feat': onnx_feat})
    pairs = [(onnx_feat, feat)] + list(zip(outputs, (score.sigmoid(), offset, size)))
    return max(float(np.abs(ours - eager.numpy()).max()) for ours, eager in pairs)


def export_tracker(cfg: Config, checkpoint: Optional[str], out_dir: str,
                   opset: int = 17) -> Tuple[str, float]:
    """tools/export_onnx.py for tracking configs: the two graphs in ``out_dir``; returns the
    report and ONNX Runtime's largest absolute error against eager."""
    model = build_tracker_model(cfg, checkpoint)
    template_path, search_path = export_tracker_onnx(model, out_dir, opset)
    error = tracker_onnx_error(model, template_path, search_path)
    return (f'wrote {template_path} (template crop {model.template_size} px -> features) and '
            f'{search_path} (search crop {model.search_size} px + features -> score, offset, '
            f'size), opset {opset}\n  ONNX Runtime vs eager PyTorch: max absolute error '
            f'{error:.2e}'), error


def onnx_crop_tracker(model, template_path: str, search_path: str) -> CropTracker:
    """The same tracking loop over ONNX Runtime sessions of the two graphs."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    template_session = ort.InferenceSession(template_path, options,
                                            providers=['CPUExecutionProvider'])
    search_session = ort.InferenceSession(search_path, options,
                                          providers=['CPUExecutionProvider'])

    def template_fn(patch):
        return template_session.run(None, {'template': patch})[0]

    def search_fn(patch, template_feat):
        return search_session.run(None, {'search': patch, 'template_feat': template_feat})

    return CropTracker(template_fn, search_fn, model.template_size, model.search_size,
                       model.template_factor, model.search_factor)


# ---- the synthetic comparison -------------------------------------------------------------

def backend_speed_table(model, backends: Sequence[str] = CPU_BACKENDS) -> Tuple[list, str]:
    """The network's per-frame step on each backend that runs here (template branch once,
    then the search branch per frame; mmlow.benchmark.benchmark_tracker)."""
    records, lines = [], ['| backend | precision | template ms | search ms (median) | '
                          'search ms (p90) | FPS |', '|---|---|---|---|---|---|']
    for backend in backends:
        if backend not in available_backends():
            continue
        try:
            record = benchmark_tracker(model, backend)
        except BackendUnavailableError:
            continue
        records.append(record)
        lines.append(f"| {backend} | {record['precision']} | {record['template_ms']:.2f} | "
                     f"{record['search_median_ms']:.2f} | {record['search_p90_ms']:.2f} | "
                     f"{record['fps']:.1f} |")
    return records, '\n'.join(lines)


def compare_on_synthetic(cfg: Config, checkpoint: str, work_dir: str,
                         backends: Sequence[str] = CPU_BACKENDS) -> Tuple[Dict, str]:
    """Our tracker (eager and ONNX Runtime), a never-moving box and NCC template matching on
    the config's held-out sequences: one table of AO / SR0.50 / SR0.75, FPS as GOT-10k
    defines it (mean of per-frame 1/t) and the median time per tracked frame."""
    model = build_tracker_model(cfg, checkpoint)
    reader = DATASETS.build(dict(cfg.tracking_test.reader))
    onnx_paths = export_tracker_onnx(model, osp.join(work_dir, 'onnx'))
    trackers = {
        'one-stream tracker (eager)': CropTracker.from_model(model),
        'one-stream tracker (ONNX Runtime)': onnx_crop_tracker(model, *onnx_paths),
        'static box': StaticTracker(),
        'NCC template matching': NCCTracker(model.search_factor),
    }
    rows = {}
    for name, tracker in trackers.items():
        result_dir = osp.join(work_dir, 'results', name.split(' (')[0].replace(' ', '_') +
                              ('_onnx' if 'ONNX' in name else ''))
        with torch.no_grad():
            frame_times = run_on_dataset(tracker, reader, result_dir)
        rows[name] = dict(evaluate_config(cfg, result_dir)['overall'],
                          **{'median ms/frame': float(np.median(frame_times) * 1000)})
    _, speed = backend_speed_table(model, backends)
    return rows, format_table(rows, COMPARE_KEYS) + '\n\nnetwork per frame:\n' + speed


# ---- demo ---------------------------------------------------------------------------------


def iter_frames(source: str):
    """Frames (BGR) of a video file or of the images in a folder (sorted by name)."""
    if osp.isdir(source):
        paths = sorted(p for p in os.listdir(source) if p.lower().endswith(IMAGE_SUFFIXES))
        if not paths:
            raise FileNotFoundError(f'no {"/".join(IMAGE_SUFFIXES)} image in folder {source}')
        for path in paths:
            yield read_image(osp.join(source, path))
        return
    if not osp.isfile(source):
        raise FileNotFoundError(f'{source} is neither a video file nor a folder of frames')
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise ValueError(f'OpenCV cannot open the video {source}')
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        yield frame
    capture.release()


def track_video(cfg: Config, checkpoint: str, source: str, init_box, out_path: str,
                fps: float = 25.0) -> np.ndarray:
    """Track from ``init_box`` (x, y, w, h on the first frame) and write every frame with its
    box drawn into ``out_path`` (mp4). Returns the boxes."""
    tracker = CropTracker.from_model(build_tracker_model(cfg, checkpoint))
    writer, boxes = None, []
    for index, frame in enumerate(iter_frames(source)):
        if index == 0:
            x, y, w, h = init_box
            height, width = frame.shape[:2]
            if x >= width or y >= height or x + w <= 0 or y + h <= 0:
                raise ValueError(f'--init {x:g},{y:g},{w:g},{h:g} lies outside the first frame '
                                 f'({width}x{height} px): give x,y,w,h of the target in it')
            tracker.init(frame, init_box)
            box = np.asarray(init_box, dtype=np.float64)
            os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
            writer = cv2.VideoWriter(out_path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                     (frame.shape[1], frame.shape[0]))
        else:
            box = tracker.track(frame)
        boxes.append(np.array(box))
        x, y, w, h = np.round(box).astype(int)
        cv2.rectangle(frame, (x, y), (x + w, y + h), (0, 255, 0), 2)
        writer.write(frame)
    if writer is None:
        raise ValueError(f'{source} has no frame')
    writer.release()
    return np.stack(boxes)
