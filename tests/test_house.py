"""The one-way house: models import no converters, apis, benchmark or tools; tools stay thin."""
import ast
import glob
import os.path as osp

import pytest

from tests.conftest import REPO_ROOT

FORBIDDEN_IN_MODELS = ('mmlow.converters', 'mmlow.apis', 'mmlow.benchmark', 'tools')


def imported_modules(path: str):
    """Absolute names of what ``path`` imports (relative imports resolved)."""
    package = osp.relpath(osp.dirname(path), REPO_ROOT).replace(osp.sep, '.')
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit('.', node.level - 1)[0] if node.level else ''
            module = '.'.join(part for part in (base, node.module) if part)
            yield module
            yield from (f'{module}.{alias.name}' for alias in node.names)


@pytest.mark.parametrize('path', sorted(glob.glob(osp.join(REPO_ROOT, 'mmlow/models/**/*.py'),
                                               recursive=True)),
                         ids=lambda path: osp.relpath(path, REPO_ROOT))
def test_models_import_nothing_downstream(path):
    bad = [name for name in imported_modules(path)
           if any(name == f or name.startswith(f'{f}.') for f in FORBIDDEN_IN_MODELS)]
    assert not bad, f'{path} imports {bad}: data flows config -> registry -> model only'


def test_resolver_sees_relative_imports():
    # the check above must catch a relative import of a downstream package too
    names = set(imported_modules(osp.join(REPO_ROOT, 'mmlow/apis/convert.py')))
    assert 'mmlow.converters.read_checkpoint' in names
    names = set(imported_modules(osp.join(REPO_ROOT, 'mmlow/models/backbones/base.py')))
    assert 'mmlow.models.weights.load_strict' in names


@pytest.mark.parametrize('path', sorted(glob.glob(osp.join(REPO_ROOT, 'tools/**/*.py'),
                                               recursive=True)),
                         ids=lambda path: osp.relpath(path, REPO_ROOT))
def test_tools_are_thin_and_leave_sys_path_alone(path):
    source = open(path).read()
    assert 'sys.path' not in source
    assert len(source.splitlines()) <= 80, f'{path}: move its logic into mmlow'
