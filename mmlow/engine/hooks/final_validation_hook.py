"""A run killed after its last checkpoint but before its final validation is finished by
``--resume``: mmengine's loop sees nothing left to train and ends without metrics."""
from mmengine.hooks import Hook

from mmlow.registry import HOOKS


@HOOKS.register_module()
class FinalValidationHook(Hook):
    """Validate once when training starts with nothing left to train (a resumed, complete run).

    The checkpoint cannot say whether the validation after it finished, so it is run again;
    validating twice costs one evaluation, never a wrong or missing result.
    """
    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        loop = runner.train_loop
        if 0 < loop.max_iters <= loop.iter and runner.val_loop is not None:
            runner.logger.info('resumed a run that has finished training: running its final '
                               'validation')
            runner.val_loop.run()
