"""tools/train.py, SIGKILLed at a chosen point: ``python -m tests.test_engine.kill_driver
WHEN -- TRAIN_ARGS``. WHEN is ``never``, ``iter:N`` (before training iteration N),
``save:NAME`` (while NAME is being written, after its bytes, before its rename) or ``val``
(when validation starts)."""
import os
import signal
import sys


def _kill():
    os.kill(os.getpid(), signal.SIGKILL)


def arm(when: str) -> None:
    from mmengine.runner import loops
    if when.startswith('iter:'):
        target = int(when.split(':', 1)[1])
        for loop in (loops.EpochBasedTrainLoop, loops.IterBasedTrainLoop):
            def killing_run_iter(self, *args, _run_iter=loop.run_iter):
                if self._iter == target:
                    _kill()
                return _run_iter(self, *args)
            loop.run_iter = killing_run_iter
    elif when.startswith('save:'):
        name = when.split(':', 1)[1]
        fsync = os.fsync

        def killing_fsync(fd):
            if os.path.basename(os.readlink(f'/proc/self/fd/{fd}')).startswith(f'{name}.tmp-'):
                _kill()
            return fsync(fd)
        os.fsync = killing_fsync
    elif when == 'val':
        loops.ValLoop.run = lambda self: _kill()
    elif when != 'never':
        raise SystemExit(f'unknown kill point {when!r}')


if __name__ == '__main__':
    import mmlow  # noqa: F401  (its atomic file backend calls os.fsync, which arm() wraps)
    from tools.train import main
    arm(sys.argv[1])
    sys.exit(main(sys.argv[3:]))
