"""The tracking inference API (a tracker from mmlow.apis.init_model): tracking a sequence of
frames, and the video demo (tools/track_demo.py)."""
import os
import os.path as osp
from typing import Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config

from mmlow.datasets.tracking import read_image
from mmlow.deploy.loading import build_model
from mmlow.fileio import IMAGE_SUFFIXES
from mmlow.models.tracking import CropTracker
from mmlow.runner.tracking_test import track_sequence

__all__ = ['inference_tracker', 'iter_frames', 'track_sequence', 'track_video']


def inference_tracker(model, frames: Sequence[str], init_box) -> Tuple[np.ndarray, np.ndarray]:
    """Track the target of ``init_box`` (x, y, w, h on the first frame) through ``frames``
    (image files) with a tracker made by :func:`mmlow.apis.init_model`, as mmdet's
    ``inference_detector``: the boxes (first = the given box) and per-frame seconds."""
    with torch.no_grad():
        return track_sequence(CropTracker.from_model(model.eval()), frames, init_box)


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
    tracker = CropTracker.from_model(build_model(cfg, checkpoint))
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
