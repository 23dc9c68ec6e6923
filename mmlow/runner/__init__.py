"""What the tools share to train, test and resume: config setup and the checks that must fail
early (launch), training and test runs (runs, testing), checkpoints in work dirs (checkpoint),
one run per work dir (work_dir), the data check (data_check), checkpoint conversion (convert),
and how a tool ends (cli)."""
from mmlow.config import config_scope, load_config, retarget_data_root
from .checkpoint import latest_checkpoint, remove_orphaned_temporaries, resolve_checkpoint
from .cli import positive_int, run_cli
from .launch import (DataMissingError, add_common_args, build_runner, check_data,
                     check_pretrained, prepare_config)
from .runs import add_dump_results, enable_amp, run_testing, run_training

__all__ = [
    'DataMissingError', 'add_common_args', 'add_dump_results', 'build_runner', 'check_data',
    'check_pretrained', 'config_scope', 'enable_amp', 'latest_checkpoint', 'load_config',
    'positive_int', 'prepare_config', 'remove_orphaned_temporaries', 'resolve_checkpoint',
    'retarget_data_root', 'run_cli', 'run_testing', 'run_training'
]
