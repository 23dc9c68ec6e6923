from .launch import (DataMissingError, add_common_args, build_runner, check_data,
                     check_pretrained, config_scope, load_config, prepare_config,
                     resolve_checkpoint)

__all__ = [
    'DataMissingError', 'add_common_args', 'build_runner', 'check_data', 'check_pretrained',
    'config_scope', 'load_config', 'prepare_config', 'resolve_checkpoint'
]
