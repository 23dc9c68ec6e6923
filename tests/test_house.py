"""The one-way house. Bottom half: models, datasets, evaluation, converters and analysis import
nothing of the top half (and models no converters). Top half, from the bottom: deploy (backends, export) -> benchmark (measurement)
-> engine (hooks) -> runner (what the tools share to train / test) -> apis (the inference API)
-> reports (the studies); each imports only what lies below it, function-level imports
included, and nothing in mmlow imports the tools. Tools stay thin."""
import ast
import glob
import os.path as osp

import pytest

from tests.conftest import REPO_ROOT

TOP_HALF = ('mmlow.deploy', 'mmlow.benchmark', 'mmlow.engine', 'mmlow.runner', 'mmlow.apis',
            'mmlow.reports')
# what each package must not import (everything above it)
FORBIDDEN = {
    'models': ('mmlow.converters', ) + TOP_HALF,
    'datasets': TOP_HALF,
    'evaluation': TOP_HALF,
    'converters': TOP_HALF,
    'analysis': TOP_HALF,
    'deploy': TOP_HALF[1:],
    'benchmark': TOP_HALF[2:],
    'engine': TOP_HALF[3:],
    'runner': TOP_HALF[4:],
    'apis': TOP_HALF[5:],
    'reports': (),
}


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


@pytest.mark.parametrize('package', sorted(FORBIDDEN))
def test_each_package_imports_only_what_lies_below_it(package):
    bad = {}
    for path in _sources(f'mmlow/{package}/**/*.py'):
        names = _forbidden(path, FORBIDDEN[package] + ('tools', ))
        if names:
            bad[osp.relpath(path, REPO_ROOT)] = sorted(set(names))
    assert not bad, f'data flows one way; these import upward: {bad}'


def test_every_package_has_its_place():
    packages = {osp.basename(osp.dirname(path)) for path in _sources('mmlow/*/__init__.py')}
    assert packages == set(FORBIDDEN)


def test_nothing_in_mmlow_imports_the_tools():
    bad = [path for path in _sources('mmlow/**/*.py') if _forbidden(path, ('tools', ))]
    assert not bad


def test_resolver_sees_relative_imports():
    # the check above must catch a relative import of a downstream package too
    names = set(imported_modules(osp.join(REPO_ROOT, 'mmlow/runner/convert.py')))
    assert 'mmlow.converters.read_backbone_checkpoint' in names
    names = set(imported_modules(osp.join(REPO_ROOT, 'mmlow/models/backbones/base.py')))
    assert 'mmlow.models.weights.load_strict' in names


@pytest.mark.parametrize('path', _sources('tools/**/*.py'),
                         ids=lambda path: osp.relpath(path, REPO_ROOT))
def test_tools_are_thin_and_leave_sys_path_alone(path):
    source = open(path).read()
    assert 'sys.path' not in source
    assert len(source.splitlines()) <= 80, f'{path}: move its logic into mmlow'
