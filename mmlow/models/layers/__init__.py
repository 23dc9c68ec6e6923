from .conv_norm import ConvNormAct, fold_bn_into_conv, switch_to_deploy
from .mlp import ConvMlp
from .drop import drop_path_rates

__all__ = ['ConvNormAct', 'ConvMlp', 'drop_path_rates', 'fold_bn_into_conv', 'switch_to_deploy']
