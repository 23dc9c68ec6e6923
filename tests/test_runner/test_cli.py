"""How the tools end: a distributed run leaves its process group whatever its body did."""
import pytest
import torch.distributed as dist

from mmlow.runner import run_cli
from mmlow.errors import ConfigError


def _finishes():
    return 0


def _user_mistake():
    raise ConfigError('bad input')


def _bug():
    raise KeyError('bug')


@pytest.mark.parametrize('body, expected_exit', [(_finishes, 0), (_user_mistake, 2),
                                                  (_bug, KeyError)])
def test_run_cli_leaves_the_process_group(body, expected_exit, tmp_path):
    dist.init_process_group('gloo', init_method=f'file://{tmp_path / "store"}', rank=0,
                            world_size=1)
    try:
        if isinstance(expected_exit, int):
            assert run_cli(body) == expected_exit
        else:
            with pytest.raises(expected_exit):
                run_cli(body)
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
