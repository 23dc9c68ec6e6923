"""One run per work dir: a live run's work dir is refused to a second run, naming it."""
import os
import subprocess
import sys

import pytest

from mmlow.runner.work_dir import LOCK_FILE, work_dir_lock
from mmlow.errors import WorkDirInUseError
from tests.conftest import REPO_ROOT

HOLD = ('import sys, time\nfrom mmlow.runner.work_dir import work_dir_lock\n'
        'with work_dir_lock(sys.argv[1]):\n    print("held", flush=True)\n    time.sleep(120)\n')


@pytest.fixture
def held(tmp_path):
    """A work dir that another live process holds."""
    work_dir = str(tmp_path / 'work')
    holder = subprocess.Popen([sys.executable, '-c', HOLD, work_dir], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert holder.stdout.readline().strip() == 'held'
        yield work_dir, holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_a_work_dir_held_by_a_live_run_is_refused_naming_it(held, monkeypatch):
    work_dir, pid = held
    with pytest.raises(WorkDirInUseError, match=f'work dir {work_dir} is in use by another '
                       f'run \\(pid {pid}: .*python'):
        with work_dir_lock(work_dir):
            pass
    # the other ranks of a distributed run share rank 0's lock
    monkeypatch.setenv('RANK', '1')
    with work_dir_lock(work_dir):
        pass


def test_the_train_tool_refuses_a_held_work_dir_in_one_line(held, tmp_path, capsys):
    from tools.train import main as train_main
    work_dir, pid = held
    config = os.path.join(REPO_ROOT, 'configs/tracking/lowformer-track_cpu_synthetic.py')
    assert train_main([config, '--work-dir', work_dir, '--cfg-options',
                       f'data_root={tmp_path}/data/']) == 2
    (line, ) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith('error: work dir') and f'pid {pid}' in line


def test_a_stale_lock_is_taken_over_with_a_warning(tmp_path, monkeypatch):
    from mmlow.runner import work_dir as module
    logged = []
    monkeypatch.setattr(module, 'print_log', lambda message, **kwargs: logged.append(message))
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    (work_dir / LOCK_FILE).write_text('pid 999999: python tools/train.py killed.py')
    with work_dir_lock(str(work_dir)):
        assert f'pid {os.getpid()}' in (work_dir / LOCK_FILE).read_text()
    assert len(logged) == 1 and 'pid 999999: python tools/train.py killed.py' in logged[0]
    assert (work_dir / LOCK_FILE).read_text() == ''  # released: the next run takes it quietly
    with work_dir_lock(str(work_dir)):
        pass
    assert len(logged) == 1
