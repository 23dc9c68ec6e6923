"""How the tools end: a user's mistake is one ``error:`` line and exit status 2; a bug keeps its
traceback. ``--debug`` shows the traceback of user errors too. A distributed run leaves its
process group before the interpreter shuts down."""
import argparse
import re
import sys
import time
from typing import Callable, Sequence, Tuple, Type

import torch

from mmlow.deploy.backends import parse_variant
from mmlow.deploy.quantize import (BACKBONE_CALIBRATION_CONFIG, DEFAULT_CALIBRATION_IMAGES,
                                   KEEP_FLOAT)
from mmlow.errors import UserError

USER_ERROR_EXIT = 2

# mmengine's registry re-raises a failed build as the same type with this prefixed, once per
# nesting level (detector, backbone, ...); the innermost message is the one that explains
_REGISTRY_PREFIX = re.compile(r'^(class `\w+` in [\w.]+: )+')
# torch re-raises an error of a DataLoader worker with the worker's traceback as its message;
# the original message is what follows the exception's qualified name on the last lines
_WORKER_ERROR = re.compile(r'^Caught (\w+) in DataLoader worker process \d+\.\n.*?\n'
                           r'(?:[\w.]+\.)?\1: (.*)$', re.DOTALL)


def _out_of_memory_advice(exc: BaseException) -> str:
    return (f'out of memory ({str(exc).splitlines()[0]}). The input is too large for this '
            'machine: lower the image size (the Resize scale of the pipeline) or the batch '
            'size, or use a device with more memory')


def is_out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, (torch.OutOfMemoryError, MemoryError)) or (
        isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc))


def user_message(exc: BaseException) -> str:
    if is_out_of_memory(exc) and not isinstance(exc, UserError):
        return _out_of_memory_advice(exc)
    message = str(exc)
    from_worker = _WORKER_ERROR.match(message)
    if from_worker:
        message = from_worker.group(2).strip()
    return _REGISTRY_PREFIX.sub('', message)


def positive_int(text: str) -> int:
    """argparse type of sizes and counts (image side, batch, iterations)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected a whole number, not {text!r}') from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f'must be positive, not {value}')
    return value


def backend_argument(text: str) -> Tuple[str, str]:
    """argparse type of a backend item where a tool takes several (``--backends``):
    NAME or NAME/PRECISION, e.g. ``openvino/bf16`` (mmlow.deploy.BACKENDS)."""
    try:
        return parse_variant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_calibration_args(parser: argparse.ArgumentParser, what: str = 'training images',
                         config_option: bool = False) -> None:
    """``--calib N``, ``--keep-float [PART ...]`` (and, for tools without a task config of
    their own, ``--calib-config``): where int8 builds take their calibration images and what
    they leave in floating point (mmlow.deploy.quantize)."""
    parser.add_argument('--calib', type=positive_int, default=DEFAULT_CALIBRATION_IMAGES,
                        help=f'int8: calibrate on this many {what} (default: %(default)s)')
    parser.add_argument('--keep-float', nargs='*', choices=list(KEEP_FLOAT),
                        default=list(KEEP_FLOAT), help='int8: parts left in floating point '
                        '(none: give the option alone; default: %(default)s)')
    if config_option:
        parser.add_argument('--calib-config', default=BACKBONE_CALIBRATION_CONFIG,
                            help='int8: the config whose training images, through its test '
                            'pipeline and preprocessor, calibrate (default: %(default)s)')


def _leave_process_group() -> None:
    """Gloo's worker thread frees the tensors of a finished collective just after it returns,
    and needs the GIL to do so. A process that ends right after one (mmengine's last
    validation broadcasts its metrics) can begin interpreter shutdown first; shutdown then ends
    that thread inside the destructor: SIGABRT, "terminate called without an active exception"
    (seen under gdb in ProcessGroupGloo::runLoop, ~AsyncBroadcastWork), after the work itself
    succeeded. Sleeping hands the GIL over so that the thread finishes before shutdown."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
        time.sleep(0.2)


def run_cli(command: Callable[[], int], debug: bool = False,
            user_errors: Sequence[Type[Exception]] = ()) -> int:
    """Run a tool's body; a UserError, one of the tool's ``user_errors`` (e.g. ValueError where
    its library functions raise that for bad input) or running out of memory ends in one line
    on stderr."""
    try:
        return command()
    except Exception as exc:
        expected = (UserError, *user_errors)
        if debug or not (isinstance(exc, expected) or is_out_of_memory(exc)):
            raise
        print(f'error: {user_message(exc)}', file=sys.stderr)
        return USER_ERROR_EXIT
    finally:
        _leave_process_group()
