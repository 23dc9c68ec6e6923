import os

import pytest
from mmengine.fileio import LocalBackend, get_file_backend

from mmlow.fileio import ATOMIC, AtomicLocalBackend


def test_writes_through_the_named_backend_are_atomic(tmp_path, monkeypatch):
    backend = get_file_backend(str(tmp_path), backend_args=ATOMIC)
    assert isinstance(backend, AtomicLocalBackend)
    target = tmp_path / 'sub' / 'ckpt.pth'
    backend.put(b'first', str(target))
    assert target.read_bytes() == b'first'

    # a failure mid-write must leave the previous file intact and no temporary behind
    def failing_fsync(fd):
        raise OSError('disk full')
    with monkeypatch.context() as patched:
        patched.setattr(os, 'fsync', failing_fsync)
        with pytest.raises(OSError):
            backend.put(b'second', str(target))
    assert target.read_bytes() == b'first'
    assert os.listdir(target.parent) == ['ckpt.pth']
    backend.put_text('text', str(tmp_path / 'last_checkpoint'))
    assert (tmp_path / 'last_checkpoint').read_text() == 'text'


def test_mmengines_own_local_backend_is_left_as_it_is(tmp_path):
    backend = get_file_backend(str(tmp_path))
    assert type(backend) is LocalBackend
