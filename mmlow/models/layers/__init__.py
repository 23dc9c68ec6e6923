from .attention_bias import (RelativePositionBias, clamped_offset_index,
                             relative_offset_index, resize_offset_bias_table)
from .conv_norm import (ConvNormAct, conv_from_transposed, fold_bn_into_conv,
                        switch_to_deploy)
from .mlp import ConvMlp
from .drop import drop_path_rates
from .linear_norm import fold_bn_into_linear

__all__ = ['RelativePositionBias', 'clamped_offset_index', 'relative_offset_index', 'resize_offset_bias_table',
           'ConvNormAct', 'ConvMlp', 'conv_from_transposed', 'drop_path_rates',
           'fold_bn_into_conv', 'fold_bn_into_linear', 'switch_to_deploy']
