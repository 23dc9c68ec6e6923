from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer, build_norm_layer
from mmdet.models.necks import FPN

from mmlow.errors import ConfigError
from mmlow.registry import MODELS


@MODELS.register_module()
class EfficientViTFPN(FPN):
    """FPN that also reaches *finer* than its inputs, for EfficientViT's stride 16/32/64 maps.

    As in the EfficientViT (MSRA) detection code: the top-down merged finest lateral is
    upsampled by ``num_extra_trans_convs`` stride-2 transposed convs, each followed by a 3x3
    output conv, and those levels come first in the outputs. With inputs at strides 16/32/64,
    one transposed conv and ``num_outs=5`` this gives the usual 8..128 pyramid of RetinaNet.
    The other arguments are mmdet's FPN ones; its extra coarse levels count towards
    ``num_outs`` as usual.
    """

    def __init__(self, in_channels: List[int], out_channels: int, num_outs: int,
                 num_extra_trans_convs: int = 1, **kwargs):
        if not 0 <= num_extra_trans_convs < num_outs:
            raise ConfigError('num_extra_trans_convs must lie in [0, num_outs)')
        super().__init__(in_channels, out_channels, num_outs - num_extra_trans_convs, **kwargs)
        self.num_outs = num_outs
        norm_cfg = kwargs.get('norm_cfg')
        lateral_norm = None if kwargs.get('no_norm_on_lateral', False) else norm_cfg
        self.extra_trans_convs = nn.ModuleList()
        self.extra_fpn_convs = nn.ModuleList()
        for _ in range(num_extra_trans_convs):
            layers = [nn.ConvTranspose2d(out_channels, out_channels, 2, stride=2,
                                         bias=lateral_norm is None)]
            if lateral_norm is not None:
                layers.append(build_norm_layer(lateral_norm, out_channels)[1])
            if kwargs.get('act_cfg') is not None:
                layers.append(build_activation_layer(kwargs['act_cfg']))
            self.extra_trans_convs.append(nn.Sequential(*layers))
            self.extra_fpn_convs.append(
                ConvModule(out_channels, out_channels, 3, padding=1,
                           conv_cfg=kwargs.get('conv_cfg'), norm_cfg=norm_cfg,
                           act_cfg=kwargs.get('act_cfg'), inplace=False))

    def forward(self, inputs: Tuple[torch.Tensor]) -> tuple:
        assert len(inputs) == len(self.in_channels)
        laterals = [conv(inputs[i + self.start_level])
                    for i, conv in enumerate(self.lateral_convs)]
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + F.interpolate(
                laterals[i], size=laterals[i - 1].shape[2:], **self.upsample_cfg)

        finer = []
        source = laterals[0]
        for trans_conv, fpn_conv in zip(self.extra_trans_convs, self.extra_fpn_convs):
            source = trans_conv(source)
            finer.insert(0, fpn_conv(source))

        outs = [fpn_conv(lateral) for fpn_conv, lateral in zip(self.fpn_convs, laterals)]
        num_coarse = self.num_outs - len(finer)
        if num_coarse > len(outs):
            if not self.add_extra_convs:
                while len(outs) < num_coarse:
                    outs.append(F.max_pool2d(outs[-1], 1, stride=2))
            else:
                extra_source = {'on_input': inputs[self.backbone_end_level - 1],
                                'on_lateral': laterals[-1],
                                'on_output': outs[-1]}[self.add_extra_convs]
                outs.append(self.fpn_convs[len(laterals)](extra_source))
                for i in range(len(laterals) + 1, num_coarse):
                    source = F.relu(outs[-1]) if self.relu_before_extra_convs else outs[-1]
                    outs.append(self.fpn_convs[i](source))
        return tuple(finer + outs)
