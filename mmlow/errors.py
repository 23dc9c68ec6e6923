"""Errors caused by the user's input (config, data, checkpoint, device), not by mmlow.

The tools print such an error as one ``error: ...`` line and exit with status 2; any other
exception is a bug and keeps its traceback. Each class also derives from the builtin that the
same mistake used to raise, so callers that caught ValueError / FileNotFoundError still do.
"""


class UserError(Exception):
    """Bad input that the user can fix; the message says what was wrong and what to do."""


class ConfigError(UserError, ValueError):
    """A config value that cannot work (unknown arch, out-of-range out_indices, ...)."""


class DataError(UserError, ValueError):
    """A dataset file that is there but unusable (invalid JSON, corrupt image, ...)."""


class DataMissingError(UserError, FileNotFoundError):
    """A dataset file or folder that the config reads is not there."""


class CheckpointError(UserError, ValueError):
    """A checkpoint that cannot be used as asked (missing, unsafe, other architecture)."""


class WorkDirInUseError(UserError, RuntimeError):
    """Another live run writes into the same work dir."""


class GeneratedDataError(DataError, RuntimeError):
    """A folder of generated (synthetic) data that is incomplete or was made otherwise."""
