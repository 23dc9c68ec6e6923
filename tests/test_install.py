"""The cheap parts of tools/install.sh, so that every CI run exercises the mmcv source path.

The whole fresh-machine build (about 17 minutes) is `make install-check`, run before a release.
"""
import os
import re
import subprocess
import sys

import pytest

INSTALL = os.path.join('tools', 'install.sh')


def run_install(repo_root, *args, **env):
    return subprocess.run(['bash', INSTALL, *args], cwd=repo_root, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=600)


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith('[install] error:')]


def test_mmcv_sdist_fetches_and_patches_for_cxx20(repo_root, tmp_path):
    result = run_install(repo_root, 'fetch-mmcv', str(tmp_path), VENV=sys.prefix)
    assert result.returncode == 0, result.stdout + result.stderr
    setup = (tmp_path / 'mmcv-2.1.0' / 'setup.py').read_text()
    assert '-std=c++20' in setup
    assert not re.search(r'-std=c\+\+1[47]', setup)
    # the patched tree is a buildable source: the extension sources are there
    assert (tmp_path / 'mmcv-2.1.0' / 'mmcv' / 'ops' / 'csrc' / 'pytorch' / 'nms.cpp').is_file()


def test_unreachable_index_stops_at_the_download_with_one_line(repo_root, tmp_path):
    result = run_install(repo_root, 'fetch-mmcv', str(tmp_path), VENV=sys.prefix,
                         PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL='http://127.0.0.1:9/simple',
                         PIP_FIND_LINKS='', PIP_RETRIES='0', PIP_TIMEOUT='2')
    assert result.returncode != 0
    errors = error_lines(result)
    assert len(errors) == 1, result.stderr
    assert 'downloading the mmcv 2.1.0 sdist failed' in errors[0]
    assert 'reachable' in errors[0]
    # it stopped there: nothing was unpacked or patched
    assert not (tmp_path / 'mmcv-2.1.0').exists()
    assert 'patched source' not in result.stdout


@pytest.mark.parametrize('version', ['3.12', '3.10'])
def test_python_other_than_311_is_refused_before_anything_is_made(repo_root, tmp_path, version):
    fake = tmp_path / f'python{version}'
    fake.write_text(f'#!/bin/sh\necho {version}\n')
    fake.chmod(0o755)
    venv = tmp_path / 'venv'
    result = run_install(repo_root, VENV=str(venv), PYTHON=str(fake))
    assert result.returncode != 0
    errors = error_lines(result)
    assert len(errors) == 1, result.stderr
    assert f'Python {version}' in errors[0] and 'needs 3.11' in errors[0]
    assert not venv.exists()


def test_missing_python_is_named(repo_root, tmp_path):
    result = run_install(repo_root, VENV=str(tmp_path / 'venv'), PYTHON='python3.11-not-here')
    assert result.returncode != 0
    errors = error_lines(result)
    assert len(errors) == 1 and "'python3.11-not-here' not found" in errors[0]


def test_unknown_command_is_refused(repo_root):
    result = run_install(repo_root, 'frobnicate')
    assert result.returncode != 0
    assert "unknown command 'frobnicate'" in error_lines(result)[0]

