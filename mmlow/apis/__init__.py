from .launch import (DataMissingError, check_data, check_pretrained, config_scope, load_config,
                     resolve_checkpoint)

__all__ = ['DataMissingError', 'check_data', 'check_pretrained', 'config_scope', 'load_config', 'resolve_checkpoint']
