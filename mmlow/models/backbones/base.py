"""What every mmlow backbone shares: arch resolution, stage selection, freezing, norm_eval,
pretrained loading and the deploy (BN-folded) form."""
from typing import List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule

from mmlow.errors import ConfigError
from mmlow.registry import CHECKPOINT_READERS
from ..layers import switch_to_deploy
from ..weights import load_strict


class StagedBackbone(BaseModule):
    """Base for backbones made of a ``stem`` followed by ``self.stages`` (an ``nn.ModuleList``).

    Subclasses set ``family`` (the checkpoint family name, e.g. ``'lowformer'``), ``arch_zoo``
    (named variants), ``arch_defaults`` and ``arch_required`` (keys a custom dict arch must
    give); their ``__init__`` calls :meth:`_setup`, builds ``self.stem`` and ``self.stages``,
    then calls :meth:`_post_build`.

    Args (every mmlow backbone takes them as keyword arguments):
        out_indices: stages to return (negative indices count from the last); None: all.
        frozen_stages: freeze the stem (0) and the stages before this index; -1 freezes none.
        norm_eval: keep BatchNorm layers in eval mode while training.
        deploy: fold BatchNorm into the convs once built (after loading a ``Pretrained``
            init_cfg, when there is one): an inference-only model.
        init_cfg: mmengine's; ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``
            loads an mmlow, official or timm checkpoint of the family.
    """
    family: str = ''
    arch_zoo: dict = {}

    @classmethod
    def classifier_head(cls, settings: dict, num_classes: int) -> dict:
        """Config of the family's ImageNet head on a variant's ``settings`` (the papers'
        parameter counts include it; classification checkpoints load into it)."""
        raise NotImplementedError(f'{cls.__name__} has no ImageNet head')
    arch_defaults: dict = {}
    arch_required: Tuple[str, ...] = ('widths', 'depths')

    def __init__(self, out_indices: Optional[Sequence[int]] = None, frozen_stages: int = -1,
                 norm_eval: bool = False, deploy: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        self._requested_out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self._requested_deploy = deploy
        self.deploy = False
        self.dropped_stages: Tuple[int, ...] = ()

    def _num_stages(self, settings: dict) -> int:
        return len(settings['depths'])

    def _setup(self, arch: Union[str, dict]) -> dict:
        """Resolve ``arch`` and the output stages; returns the arch settings."""
        self.arch_settings = self.resolve_arch(arch)
        num_stages = self._num_stages(self.arch_settings)
        requested = self._requested_out_indices
        self.out_indices = self._check_out_indices(
            range(num_stages) if requested is None else requested, num_stages)
        return self.arch_settings

    @classmethod
    def resolve_arch(cls, arch: Union[str, dict]) -> dict:
        """Full settings of a named variant ('b1', 'lowformer_b1', 'B-1.5') or a custom dict."""
        if isinstance(arch, dict):
            missing = set(cls.arch_required) - set(arch)
            if missing:
                raise ConfigError(f'a custom {cls.__name__} arch needs keys {sorted(missing)}')
            return {**cls.arch_defaults, **arch}
        key = str(arch).lower().replace('-', '').replace('.', '')
        key = key.removeprefix(f'{cls.family}_')
        if key not in cls.arch_zoo:
            raise ConfigError(f'unknown {cls.__name__} arch {arch!r}; choose one of '
                              f'{sorted(cls.arch_zoo)} or pass a dict with '
                              f'{", ".join(cls.arch_required)}')
        return {**cls.arch_defaults, **cls.arch_zoo[key]}

    def _check_out_indices(self, out_indices: Sequence[int], num_stages: int) -> Tuple[int, ...]:
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        resolved = []
        for index in out_indices:
            resolved_index = index + num_stages if index < 0 else index
            if not 0 <= resolved_index < num_stages:
                raise ConfigError(f'out_indices {tuple(out_indices)} of {type(self).__name__} '
                                  f'must lie in [-{num_stages}, {num_stages - 1}]')
            resolved.append(resolved_index)
        return tuple(resolved)

    def _post_build(self) -> None:
        self._freeze_stages()
        deploy = self._requested_deploy
        # pretrained weights are BN-unfused: with them, folding waits for init_weights
        self._deploy_after_init = deploy and self._pretrained_checkpoint() is not None
        if deploy and not self._deploy_after_init:
            self.eval()
            self.switch_to_deploy()

    def _pretrained_checkpoint(self):
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            return self.init_cfg['checkpoint']
        return None

    def keep_stages(self, last_stage: int) -> None:
        """Drop the stages after ``last_stage`` (a truncated backbone, e.g. a tracker's).

        ``Pretrained`` weights still load: the dropped stages' tensors are left out (and
        reported), everything else must fit exactly.
        """
        num_stages = len(self.stages)
        if not 0 <= last_stage < num_stages:
            raise ConfigError(f'last_stage={last_stage} but {type(self).__name__} has stages '
                              f'0..{num_stages - 1}')
        self.dropped_stages = tuple(range(last_stage + 1, num_stages))
        self.stages = self.stages[:last_stage + 1]
        self.out_indices = tuple(i for i in self.out_indices if i <= last_stage) or (last_stage, )

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
        checkpoint = self._pretrained_checkpoint()
        if checkpoint is None:
            super().init_weights()
            return
        if self.deploy:
            raise ConfigError(f'{type(self).__name__} is already BN-folded: load pretrained '
                              'weights before switching to deploy mode')
        self.load_pretrained(checkpoint, self.init_cfg.get('prefix', 'backbone.'))
        self._is_init = True
        if self._deploy_after_init:
            self.eval()
            self.switch_to_deploy()

    def load_pretrained(self, checkpoint: str, prefix: str = 'backbone.') -> None:
        """Load an mmlow, official or timm checkpoint of this backbone's family.

        The file is read and mapped to mmlow's names by the reader that ``mmlow.converters``
        registers for the family; loading is strict, except that the tensors of stages this
        backbone dropped (:meth:`keep_stages`) are left out, with a log line saying so.
        """
        if self.family not in CHECKPOINT_READERS:
            raise RuntimeError(f'no checkpoint reader for {self.family!r}: import mmlow (which '
                               'registers mmlow.converters) before loading pretrained weights')
        state_dict, layout = CHECKPOINT_READERS[self.family](checkpoint)
        if prefix:
            state_dict = {k[len(prefix):]: v for k, v in state_dict.items()
                          if k.startswith(prefix)}
        dropped_prefixes = tuple(f'stages.{index}.' for index in self.dropped_stages)
        dropped = [key for key in state_dict if key.startswith(dropped_prefixes)]
        for key in dropped:
            del state_dict[key]
        load_strict(self, state_dict, f'checkpoint {checkpoint!r} ({layout} layout)')
        print_log(f'loaded {type(self).__name__} weights from {checkpoint} ({layout} layout)',
                  logger='current')
        if dropped:
            print_log(f'left out {len(dropped)} tensors of stages '
                      f'{", ".join(map(str, self.dropped_stages))} of {checkpoint}: this '
                      f'{type(self).__name__} does not keep them', logger='current')
