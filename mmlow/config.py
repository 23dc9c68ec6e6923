"""Reading a task config as every entry point does (tools, benchmarks, exports): a missing
file or an inapplicable override is a ConfigError, ``--cfg-options data_root=`` moves the
datasets, and the scope must be one that mmlow runs."""
import os.path as osp
from typing import Optional

from mmengine.config import Config
from mmengine.utils import get_installed_path

from mmlow.errors import ConfigError

SCOPES = ('mmdet', 'mmseg', 'mmpretrain', 'mmengine')  # mmengine: tracking


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    if not osp.isfile(path):
        raise ConfigError(f'config {path!r} does not exist')
    cfg = Config.fromfile(path)
    if cfg_options:
        default_root = cfg.get('data_root')
        try:
            cfg.merge_from_dict(cfg_options)
        except (TypeError, KeyError, ValueError) as exc:
            raise ConfigError(f'--cfg-options cannot be applied to {path}: {exc}') from exc
        if 'data_root' in cfg_options and isinstance(default_root, str):
            retarget_data_root(cfg, default_root, cfg_options['data_root'])
    config_scope(cfg)
    return cfg


def retarget_data_root(cfg: Config, old: str, new: str) -> None:
    """Make ``--cfg-options data_root=NEW`` mean what it says.

    A config's top-level ``data_root`` is substituted into its datasets and evaluators when
    the file is read, so overriding the variable afterwards changes nothing that runs. Every
    dataset ``data_root`` still equal to the config's own, and every ``ann_file`` /
    ``seg_map_path`` ... written under it, moves to NEW; values set explicitly elsewhere stay.
    """
    old_prefix = old.rstrip('/') + '/'

    def visit(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == 'data_root' and isinstance(value, str) and \
                        value.rstrip('/') == old.rstrip('/'):
                    node[key] = new
                elif isinstance(value, str) and value.startswith(old_prefix):
                    node[key] = osp.join(new, value[len(old_prefix):])
                else:
                    visit(value)
        elif isinstance(node, (list, tuple)):
            for item in node:
                visit(item)

    for key in cfg.keys():
        if key != 'data_root':
            visit(cfg[key])


def config_scope(cfg: Config) -> str:
    scope = cfg.get('default_scope')
    if scope not in SCOPES:
        raise ConfigError(f'config default_scope is {scope!r}; mmlow tools run configs whose '
                         f'scope is one of {SCOPES}')
    return scope


def config_path(config: str) -> str:
    """A config file, also spelt as OpenMMLab's base configs are: 'mmdet::retinanet/x.py'."""
    if '::' not in config:
        return config
    package, relative = config.split('::', 1)
    return osp.join(get_installed_path(package), '.mim', 'configs', relative)


def is_tracking_config(cfg: Config) -> bool:
    return cfg.get('model', {}).get('type') == 'OneStreamTracker'
