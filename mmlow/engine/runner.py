"""The runner mmlow's configs name (``runner_type = 'MMLowRunner'``, in configs/_base_/mmlow.py).

It is mmengine's Runner with three differences, each a guarantee of docs/guarantees.md that no
config key of mmengine's reaches:

- every dataset it builds is wrapped in :class:`~mmlow.datasets.SeededDataset`, so that the
  seeds of the seeded samplers reach the augmentation (exact resume) and an unreadable image
  is named;
- a dataset that fails to build is diagnosed: when a file of it is at fault (invalid JSON, no
  images listed, empty folder) the error names that file;
- on a machine without CUDA, distributed runs join their process group over gloo directly
  (mmengine 0.10.7 first pins each process to a CUDA device, which fails without one).

And ``num_workers=0`` simply works: OpenMMLab's bases ask for persistent workers, which torch
refuses without workers, so without workers none persist.
"""
import datetime
import os
from typing import Optional

import torch
from mmengine.dist import is_distributed
from mmlow.registry import RUNNERS
from mmengine.runner import Runner

from mmlow.datasets.validation import diagnose_config
from mmlow.errors import UserError


@RUNNERS.register_module()
class MMLowRunner(Runner):

    @staticmethod
    def build_dataloader(dataloader, seed: Optional[int] = None,
                         diff_rank_seed: bool = False):
        if isinstance(dataloader, dict) and not dataloader.get('num_workers'):
            dataloader = dict(dataloader, persistent_workers=False)
        dataset = dataloader.get('dataset') if isinstance(dataloader, dict) else None
        if not isinstance(dataset, dict):
            return Runner.build_dataloader(dataloader, seed, diff_rank_seed)
        wrapped = dict(dataloader, dataset=dict(type='SeededDataset', dataset=dataset))
        try:
            return Runner.build_dataloader(wrapped, seed, diff_rank_seed)
        except UserError:
            raise
        except Exception as exc:
            try:
                diagnose_config(dataset)
            except UserError as named:
                raise named from exc
            raise

    def setup_env(self, env_cfg: dict) -> None:
        if (self.distributed and self.launcher == 'pytorch' and not is_distributed()
                and not torch.cuda.is_available()):
            dist_cfg = dict(env_cfg.get('dist_cfg') or {})
            dist_cfg['backend'] = 'gloo'
            if dist_cfg.get('timeout') is not None:
                dist_cfg['timeout'] = datetime.timedelta(seconds=dist_cfg['timeout'])
            torch.distributed.init_process_group(
                rank=int(os.environ['RANK']), world_size=int(os.environ['WORLD_SIZE']),
                **dist_cfg)
        super().setup_env(env_cfg)
