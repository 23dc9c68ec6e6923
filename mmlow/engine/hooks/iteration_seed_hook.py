"""Exact resume for what a model draws at random while it trains: drop path, dropout, the
proposal samplers of two-stage detectors."""
from mmengine.hooks import Hook
from mmengine.runner import set_random_seed

from mmlow.datasets.samplers import derived_seed
from mmlow.registry import HOOKS


@HOOKS.register_module()
class IterationSeedHook(Hook):
    """Seed the global random streams before every training iteration from (run seed,
    iteration).

    mmengine seeds them once, when a run starts, and no checkpoint holds them: a resumed run
    draws its drop-path masks from a fresh stream where the uninterrupted run had one advanced
    by every iteration before. Seeded per iteration, iteration k draws the same in both. (The
    data's randomness is seeded per sample by the seeded samplers, ``mmlow.datasets.samplers``.)
    """
    priority = 'VERY_HIGH'

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        set_random_seed(derived_seed(runner.seed, runner.iter))
