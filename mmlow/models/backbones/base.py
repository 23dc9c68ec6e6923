"""What every mmlow backbone shares: stage selection, freezing, norm_eval and pretrained loading."""
from typing import Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule

from ..layers import switch_to_deploy


class StagedBackbone(BaseModule):
    """Base for backbones made of a ``stem`` followed by ``self.stages`` (an ``nn.ModuleList``).

    Subclasses set ``family`` (the converter family name, e.g. ``'lowformer'``) and build
    ``self.stem`` and ``self.stages`` before calling :meth:`_post_build`.
    """
    family: str = ''

    def _check_out_indices(self, out_indices: Sequence[int], num_stages: int) -> Tuple[int, ...]:
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        resolved = []
        for index in out_indices:
            resolved_index = index + num_stages if index < 0 else index
            if not 0 <= resolved_index < num_stages:
                raise ValueError(f'out_indices {tuple(out_indices)} of {type(self).__name__} '
                                 f'must lie in [-{num_stages}, {num_stages - 1}]')
            resolved.append(resolved_index)
        return tuple(resolved)

    def _post_build(self, frozen_stages: int, norm_eval: bool, deploy: bool) -> None:
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.deploy = False
        self._freeze_stages()
        if deploy:
            self.eval()
            self.switch_to_deploy()

    def _frozen_modules(self):
        if self.frozen_stages >= 0:
            yield self.stem
            for stage in self.stages[:self.frozen_stages]:
                yield stage

    def _freeze_stages(self) -> None:
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        if mode and self.deploy:
            raise RuntimeError(f'{type(self).__name__} was switched to deploy mode (BN fused) '
                               'and cannot be trained; build it with deploy=False to train.')
        return self

    def forward(self, x):
        x = self.stem(x)
        outs = []
        for index, stage in enumerate(self.stages):
            x = stage(x)
            if index in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def switch_to_deploy(self) -> None:
        """Fold BatchNorm into the convs before it, for inference."""
        if not self.deploy:
            switch_to_deploy(self)
            self.deploy = True

    def init_weights(self) -> None:
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            from mmlow.converters import load_pretrained_backbone
            load_pretrained_backbone(self, self.init_cfg['checkpoint'],
                                     prefix=self.init_cfg.get('prefix', 'backbone.'))
            self._is_init = True
        else:
            super().init_weights()
