"""The one-way house: models import no converters, apis, benchmark or tools; nothing that the
tools' shared layer (mmlow.apis) builds on imports it back; tools stay thin."""
import ast
import glob
import os.path as osp

import pytest

from tests.conftest import REPO_ROOT

FORBIDDEN_IN_MODELS = ('mmlow.converters', 'mmlow.apis', 'mmlow.benchmark', 'tools')
# everything in mmlow outside mmlow/apis sits below it
FORBIDDEN_BELOW_APIS = ('mmlow.apis', 'tools')


def _sources(pattern: str):
    return sorted(path for path in glob.glob(osp.join(REPO_ROOT, pattern), recursive=True))


def _forbidden(path: str, forbidden):
    return [name for name in imported_modules(path)
            if any(name == f or name.startswith(f'{f}.') for f in forbidden)]


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


@pytest.mark.parametrize('path', _sources('mmlow/models/**/*.py'),
                         ids=lambda path: osp.relpath(path, REPO_ROOT))
def test_models_import_nothing_downstream(path):
    bad = _forbidden(path, FORBIDDEN_IN_MODELS)
    assert not bad, f'{path} imports {bad}: data flows config -> registry -> model only'


def test_nothing_below_apis_imports_it():
    below = [path for path in _sources('mmlow/**/*.py')
             if not osp.relpath(path, REPO_ROOT).startswith(osp.join('mmlow', 'apis', ''))]
    bad = {osp.relpath(path, REPO_ROOT): _forbidden(path, FORBIDDEN_BELOW_APIS)
           for path in below}
    assert not {path: names for path, names in bad.items() if names}, (
        'mmlow.apis is what the tools share; what it builds on must not import it back')


def test_resolver_sees_relative_imports():
    # the check above must catch a relative import of a downstream package too
    names = set(imported_modules(osp.join(REPO_ROOT, 'mmlow/apis/convert.py')))
    assert 'mmlow.converters.read_backbone_checkpoint' in names
    names = set(imported_modules(osp.join(REPO_ROOT, 'mmlow/models/backbones/base.py')))
    assert 'mmlow.models.weights.load_strict' in names


@pytest.mark.parametrize('path', _sources('tools/**/*.py'),
                         ids=lambda path: osp.relpath(path, REPO_ROOT))
def test_tools_are_thin_and_leave_sys_path_alone(path):
    source = open(path).read()
    assert 'sys.path' not in source
    assert len(source.splitlines()) <= 80, f'{path}: move its logic into mmlow'
