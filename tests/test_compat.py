import io
import os
import pickle
import subprocess
import sys

import pytest
import torch
from mmengine.logging import MessageHub

from mmlow.engine import AtomicCheckpointHook
from tests.conftest import REPO_ROOT


def _pickled_hub(save=lambda checkpoint: None):
    hub = MessageHub.get_instance('test_compat')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', torch.tensor(0.5))
    hub.update_info('iter', 7)
    checkpoint = {'message_hub': hub.state_dict(), 'meta': {'seed': 0}}
    save(checkpoint)
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    return buffer.getvalue()


def test_mmengine_still_pickles_statistics_functions():
    """The upstream bug that SafeHistoryBuffer answers: when this fails, mmengine no longer
    pickles ``getattr(HistoryBuffer, ...)`` and the shim can go."""
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(_pickled_hub()))
    assert 'builtins.getattr' in unsafe


def test_training_state_saved_by_the_hook_loads_with_weights_only():
    data = _pickled_hub(lambda checkpoint: AtomicCheckpointHook().before_save_checkpoint(
        None, checkpoint))
    assert 'builtins.getattr' not in torch.serialization.get_unsafe_globals_in_checkpoint(
        io.BytesIO(data))
    loaded = torch.load(io.BytesIO(data), weights_only=True)
    restored = MessageHub.get_instance('test_compat_restored')
    restored.load_state_dict(loaded['message_hub'])
    assert restored.get_scalar('train/loss').mean() == pytest.approx(1.0)
    assert restored.get_scalar('train/loss').current() == pytest.approx(0.5)
    assert restored.get_scalar('train/loss').max() == pytest.approx(1.5)  # statistics back


def test_arbitrary_callables_still_refused():
    buffer = io.BytesIO()
    torch.save({'fn': os.system}, buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match='posix.system'):
        torch.load(buffer, weights_only=True)


# run in a fresh interpreter: which upstream modules importing mmlow loads, then whether
# importing mmlow changes any attribute of them (or of their classes) that was there before
_SNAPSHOT = r"""
import importlib, inspect, json, sys, warnings
warnings.simplefilter('ignore')
UPSTREAM = ('mmengine', 'mmdet', 'mmseg', 'mmpretrain', 'mmcv', 'numpy', 'torch')

def upstream_modules():
    return sorted(name for name in sys.modules if name.split('.')[0] in UPSTREAM
                  and sys.modules[name] is not None)

if sys.argv[1] == 'list':
    import mmlow
    print(json.dumps(upstream_modules()))
    sys.exit()

def snapshot():
    state = {}
    for name in upstream_modules():
        for key, value in list(vars(sys.modules[name]).items()):
            if inspect.ismodule(value):
                continue
            state[f'{name}.{key}'] = id(value)
            if inspect.isclass(value) and value.__module__ == name:
                for attr, member in list(vars(value).items()):
                    state[f'{name}.{key}.{attr}'] = id(member)
    return state

for name in json.loads(sys.argv[2]):
    try:
        importlib.import_module(name)
    except Exception:
        pass
before = snapshot()
import mmlow
after = snapshot()
changed = sorted(key for key in before if after.get(key) != before[key])
# what importing mmlow added to an existing upstream module or class
added = sorted(key for key in after if key not in before
               and key.rsplit('.', 1)[0] in {k.rsplit('.', 1)[0] for k in before})
print(json.dumps(dict(changed=changed, added=added, checked=len(before))))
"""


def test_importing_mmlow_changes_no_upstream_class_or_function():
    """Registered, not patched: every attribute of every mmengine / mmdet / mmseg /
    mmpretrain / mmcv / numpy / torch module that importing mmlow loads, and of every class
    they define, is the same object after ``import mmlow`` as before it."""
    def run(*args):
        done = subprocess.run([sys.executable, '-c', _SNAPSHOT, *args], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout.strip().splitlines()[-1]

    import json
    modules = run('list')
    assert len(json.loads(modules)) > 100
    report = json.loads(run('check', modules))
    assert report['checked'] > 10000
    # torch.serialization.add_safe_globals (torch's own API for weights-only loading) is the
    # one state mmlow sets in another library
    assert report['changed'] == ['torch._weights_only_unpickler._marked_safe_globals_set']
    # registries are filled (their contents are data, not attributes); nothing else is added
    assert report['added'] == []
