"""Files written whole or not at all: mmengine writes checkpoints in place, and a kill mid-write
leaves a truncated file that a resumed run would read. Configs name the ``mmlow_atomic`` file
backend (``backend_args``); mmlow's own tools write their results through it."""
import os
import os.path as osp
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

ATOMIC = dict(backend='mmlow_atomic')
# what the tools take as an image file in a folder (all of them decoded by OpenCV)
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def atomic_write(data: Union[bytes, str], path: str, encoding: str = 'utf-8') -> None:
    """Write to ``path.tmp-PID`` next to ``path``, flush it to disk, then rename it over
    ``path``; on any failure the previous file stays and the temporary goes."""
    path = str(path)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    temporary = f'{path}.tmp-{os.getpid()}'
    binary = isinstance(data, bytes)
    try:
        with open(temporary, 'wb' if binary else 'w',
                  encoding=None if binary else encoding) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if osp.exists(temporary):
            os.remove(temporary)
        raise


@register_backend('mmlow_atomic')
class AtomicLocalBackend(LocalBackend):
    """mmengine's local backend whose writes are atomic (:func:`atomic_write`)."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write(obj, filepath, encoding)
