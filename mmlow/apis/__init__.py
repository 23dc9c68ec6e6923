from mmlow.checkpoint import (check_checkpoint_fits, guess_arch, load_checkpoint,
                              read_checkpoint)
from mmlow.config import config_scope, load_config, retarget_data_root
from .checkpoint import latest_checkpoint, remove_orphaned_temporaries, resolve_checkpoint
from .cli import positive_int, run_cli
from .launch import (DataMissingError, add_common_args, build_runner, check_data,
                     check_pretrained, prepare_config)
from .runs import add_dump_results, enable_amp, run_testing, run_training

__all__ = [
    'DataMissingError', 'add_common_args', 'add_dump_results', 'build_runner',
    'check_checkpoint_fits', 'check_data', 'check_pretrained', 'config_scope', 'enable_amp',
    'guess_arch', 'latest_checkpoint', 'load_checkpoint', 'load_config', 'positive_int',
    'prepare_config', 'read_checkpoint', 'remove_orphaned_temporaries', 'resolve_checkpoint',
    'retarget_data_root', 'run_cli', 'run_testing', 'run_training'
]
