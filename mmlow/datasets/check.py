"""Every file a dataset reads, read once: a bad image is found before a long run reaches it
(training stops at the first one, see :mod:`mmlow.datasets.validation`), and all bad files are
listed together."""
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, List, Optional, Tuple

import cv2
import numpy as np

from .tracking.pairs import TrackingPairDataset

# (path, (width, height) the annotations give, or None)
ListedFile = Tuple[str, Optional[Tuple[int, int]]]


def image_problem(path: str, expected_size: Optional[Tuple[int, int]] = None) -> Optional[str]:
    """Why the image at ``path`` is unusable, or None when it is fine.

    It must decode in full from its bytes, as mmcv decodes it (``cv2.imread`` would return the
    top of a truncated JPEG without an error). When the annotations give the image's size, the
    file must have that size (annotations of another image, or of a rotated copy, put every
    box in the wrong place)."""
    if not osp.isfile(path):
        return 'does not exist'
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as exc:
        return f'cannot be read ({exc.strerror})'
    if not data:
        return 'is empty (0 bytes)'
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        return 'cannot be decoded (truncated, corrupt or not an image)'
    if expected_size is not None:
        height, width = image.shape[:2]
        if (width, height) != tuple(expected_size):
            return (f'is {width}x{height} but its annotations say '
                    f'{expected_size[0]}x{expected_size[1]}')
    return None


def _annotated_size(info: dict) -> Optional[Tuple[int, int]]:
    width, height = info.get('width'), info.get('height')
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return width, height
    return None


def dataset_files(dataset) -> Iterator[ListedFile]:
    """The image files of a built dataset (through mmengine's and mmlow's wrappers): each
    sample's image and segmentation map, every frame of every tracking sequence."""
    if isinstance(dataset, TrackingPairDataset):
        yield from sequences_files(dataset.sequences)
    elif hasattr(dataset, 'datasets'):  # ConcatDataset
        for part in dataset.datasets:
            yield from dataset_files(part)
    elif getattr(dataset, 'dataset', None) is not None:  # Repeat-, ClassBalanced-, Seeded-
        yield from dataset_files(dataset.dataset)
    else:
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            if info.get('img_path'):
                yield info['img_path'], _annotated_size(info)
            if info.get('seg_map_path'):
                yield info['seg_map_path'], _annotated_size(info)


def sequences_files(sequences: Iterable) -> Iterator[ListedFile]:
    """Every frame of tracking sequences (a reader, or a list of TrackingSequence)."""
    for sequence in sequences:
        for frame in sequence.frames:
            yield frame, sequence.image_size


def find_bad_files(files: Iterable[ListedFile], workers: int = 2,
                   progress: Optional[Callable[[], None]] = None) -> List[Tuple[str, str]]:
    """(path, problem) of every unusable file, each path read once, in the order listed.
    Decoding releases the GIL, so ``workers`` threads read in parallel."""
    unique = list(dict.fromkeys(files))
    problems = []
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for problem in pool.map(lambda item: image_problem(*item), unique):
            problems.append(problem)
            if progress is not None:
                progress()
    return [(path, problem) for (path, _), problem in zip(unique, problems) if problem]
