"""Training and testing runs as the tools start them: every check that can fail before the
first iteration runs first, checkpoints are checked against the model before they are loaded,
and a resumed run continues exactly where the interrupted one stopped."""
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.logging import print_log

from mmlow.checkpoint import check_checkpoint_fits, read_checkpoint
from mmlow.datasets.validation import count_skipped
from mmlow.errors import ConfigError
from mmlow.runner.checkpoint import latest_checkpoint, remove_orphaned_temporaries, resolve_checkpoint
from mmlow.runner.launch import build_runner, check_crop_settings, check_data, check_pretrained
from mmlow.runner.work_dir import work_dir_lock


def enable_amp(cfg: Config) -> None:
    """Mixed precision: float16 with loss scaling on a GPU, bfloat16 autocast on a CPU."""
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        cfg.optim_wrapper.type = 'CPUBf16OptimWrapper'
        print_log('no GPU: --amp trains with bfloat16 autocast on the CPU (no loss scaling)',
                  logger='current')


def add_dump_results(cfg: Config, out: str) -> None:
    """Also write the raw predictions to ``out`` (mmengine's DumpResults: a pickle file)."""
    if not out.endswith(('.pkl', '.pickle')):
        raise ConfigError(f'--out {out}: the raw predictions are written as a pickle, so the '
                          'file must end in .pkl; for the metrics as JSON use --metrics-out')
    evaluators = cfg.test_evaluator
    cfg.test_evaluator = (list(evaluators) if isinstance(evaluators, (list, tuple))
                          else [evaluators]) + [dict(type='DumpResults', out_file_path=out)]


def _prepare_resume(cfg: Config) -> Optional[str]:
    """The checkpoint a resumed run continues from, found inside its work dir, or None."""
    if not cfg.get('resume'):
        return None
    if cfg.get('load_from'):
        path = resolve_checkpoint(cfg.load_from)
    else:
        path = latest_checkpoint(cfg.work_dir)
        if path is None:
            print_log(f'--resume: no checkpoint in {cfg.work_dir} yet, training from the start',
                      logger='current')
            cfg.resume = False
            return None
    cfg.load_from = path
    return path


def _add_hooks(cfg: Config, *types: str) -> None:
    hooks = list(cfg.get('custom_hooks') or [])
    present = {hook.get('type') for hook in hooks}
    cfg.custom_hooks = hooks + [dict(type=name) for name in types if name not in present]


def _report_skipped_images(runner) -> None:
    skipped = count_skipped(getattr(runner.train_dataloader, 'dataset', None))
    if skipped:
        print_log(f'{skipped} unreadable training image(s) were skipped '
                  '(corrupt_images="skip")', logger='current', level=30)


def run_training(cfg: Config, strict: bool = True, config_path: Optional[str] = None):
    """Check data, pretrained weights and the checkpoint to resume from, then train, holding
    the work dir (one run per work dir)."""
    check_crop_settings(cfg)
    with work_dir_lock(cfg.work_dir):
        return _train(cfg, strict, config_path)


def _train(cfg: Config, strict: bool, config_path: Optional[str]):
    check_data(cfg, config_path=config_path)
    check_pretrained(cfg)
    resume_from, checkpoint = _prepare_resume(cfg), None
    if resume_from is not None:
        checkpoint = read_checkpoint(resume_from)
        # mmengine seeds the sampler when it builds it, before it reads the checkpoint
        seed = checkpoint.get('meta', {}).get('seed')
        if seed is not None and (cfg.get('randomness') or {}).get('seed') is None:
            cfg.randomness = dict(cfg.get('randomness') or {}, seed=seed)
    remove_orphaned_temporaries(cfg.work_dir)
    _add_hooks(cfg, 'FinalValidationHook', 'MemoryGuardHook', 'IterationSeedHook')
    runner = build_runner(cfg)
    if resume_from is not None:
        check_checkpoint_fits(runner.model, resume_from, strict, checkpoint)
        del checkpoint
    runner.train()
    _report_skipped_images(runner)
    return runner


def run_testing(cfg: Config, strict: bool = True, config_path: Optional[str] = None) -> dict:
    """Evaluate ``cfg.load_from`` (a checkpoint, or a work dir for its latest) after checking
    that it fits the model."""
    check_data(cfg, splits=('test', ), config_path=config_path)
    cfg.load_from = resolve_checkpoint(cfg.load_from)
    _add_hooks(cfg, 'MemoryGuardHook')
    runner = build_runner(cfg)
    check_checkpoint_fits(runner.model, cfg.load_from, strict)
    return runner.test()
