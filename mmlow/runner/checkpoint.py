"""Checkpoints in work dirs, as the tools use them: found wherever the work dir now lives,
temporaries of killed saves cleaned up."""
import glob
import os
import os.path as osp
import re
from typing import List, Optional

from mmengine.logging import print_log

from mmlow.errors import CheckpointError

_TEMPORARY = re.compile(r'\.tmp-(\d+)$')


def latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint named by ``work_dir/last_checkpoint``, resolved inside ``work_dir``.

    mmengine writes an absolute path there; a copied work dir would resume from the original
    run's file and a moved one from nowhere. The file of that name inside ``work_dir`` wins.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        recorded = f.read().strip()
    local = osp.join(work_dir, osp.basename(recorded))
    if osp.isfile(local):
        return local
    recorded = recorded if osp.isabs(recorded) else osp.join(work_dir, recorded)
    if osp.isfile(recorded):
        return recorded
    raise CheckpointError(f'{pointer} names {recorded!r}, which is neither in {work_dir} nor at '
                          'that path: pass the .pth file to use explicitly')


def resolve_checkpoint(path: str) -> str:
    """A checkpoint file, or a work dir whose `last_checkpoint` names one."""
    if osp.isdir(path):
        found = latest_checkpoint(path)
        if found is None:
            raise CheckpointError(f'{path!r} is a folder without a last_checkpoint file: '
                                  'pass the .pth file itself')
        path = found
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint {path!r} does not exist')
    return path


def remove_orphaned_temporaries(work_dir: str) -> List[str]:
    """Delete ``*.tmp-PID`` files (atomic writes, mmlow.fileio) whose writer is dead."""
    removed = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.tmp-*')):
        match = _TEMPORARY.search(path)
        if match is None or _process_alive(int(match.group(1))):
            continue
        try:
            os.remove(path)
        except FileNotFoundError:  # another rank of the same run removed it first
            continue
        removed.append(path)
    if removed:
        print_log(f'removed {len(removed)} unfinished checkpoint file(s) of killed runs: '
                  f'{", ".join(osp.basename(p) for p in removed)}', logger='current')
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
