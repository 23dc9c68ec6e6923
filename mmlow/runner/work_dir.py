"""One run per work dir: two runs writing into one folder would mix their checkpoints, logs and
scalars under the same steps."""
import contextlib
import fcntl
import os
import os.path as osp

from mmengine.logging import print_log

from mmlow.errors import WorkDirInUseError

LOCK_FILE = 'mmlow.lock'


def _recorded_holder(lock) -> str:
    lock.seek(0)
    return lock.read().strip()


@contextlib.contextmanager
def work_dir_lock(work_dir: str):
    """Hold ``work_dir`` for this run (rank 0 for all ranks of a distributed one).

    The lock is the kernel's (flock), so it ends with its process however that ends; the file
    keeps the holder's pid and command line for the message another run gets.
    """
    if os.environ.get('RANK', '0') != '0':
        yield
        return
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, LOCK_FILE)
    with open(path, 'a+') as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkDirInUseError(
                f'work dir {work_dir} is in use by another run ({_recorded_holder(lock)}): '
                'wait for it to end, or pass another --work-dir') from None
        previous = _recorded_holder(lock)
        if previous:
            print_log(f'took over {path} from a run that ended without releasing it '
                      f'({previous})', logger='current', level=30)
        lock.seek(0)
        lock.truncate()
        lock.write(f'pid {os.getpid()}: {_command_line()}')
        lock.flush()
        try:
            yield
        finally:
            lock.seek(0)
            lock.truncate()
            lock.flush()
            fcntl.flock(lock, fcntl.LOCK_UN)


def _command_line(limit: int = 200) -> str:
    """This process's command line on one line (for another run's error message)."""
    try:
        with open(f'/proc/{os.getpid()}/cmdline', 'rb') as f:
            parts = [part.decode(errors='replace') for part in f.read().split(b'\0') if part]
    except OSError:
        parts = ['python']
    line = ' '.join(' '.join(parts).split())
    return line if len(line) <= limit else line[:limit - 3] + '...'
