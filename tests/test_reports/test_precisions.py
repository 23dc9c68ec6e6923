"""tools/analysis/precision_accuracy.py's evaluations (mmlow.reports.precisions): each variant
evaluated as tools/test.py --backend B --precision P evaluates it, in one process."""
import os

import pytest

from mmlow.reports import precisions
from tools.analysis.precision_accuracy import main as precision_main

RETRIEVAL = 'configs/retrieval/lowformer_b1_shapes.py'


def test_each_variant_is_a_backend_evaluation_without_loader_workers(repo_root, tmp_path,
                                                                     monkeypatch):
    runs = []

    def run_testing(cfg, config_path=None):
        runs.append(cfg)
        return {'retrieval/Recall@1': 0.5 + 0.1 * len(runs), 'retrieval/Recall@2': 1.0}

    monkeypatch.setattr(precisions, 'run_testing', run_testing)
    results = precisions.precision_metrics(
        os.path.join(repo_root, RETRIEVAL), 'ckpt.pth', str(tmp_path),
        [('cpu', 'fp32'), ('openvino', 'int8')], calibration_images=7,
        keep_float=('first_conv', ))
    assert results == {'cpu/fp32': {'retrieval/Recall@1': pytest.approx(0.6)},
                       'openvino/int8': {'retrieval/Recall@1': pytest.approx(0.7)}}
    eager, int8 = runs
    assert all(cfg.load_from == 'ckpt.pth' for cfg in runs)
    assert not any(hook.get('backend') for hook in eager.custom_hooks)
    (hook, ) = [hook for hook in int8.custom_hooks if hook['type'] == 'LatencyHook']
    assert (hook['backend'], hook['precision'], hook['calibration_images'],
            hook['keep_float']) == ('openvino', 'int8', 7, ['first_conv'])
    for cfg in runs:
        loaders = [cfg[key] for key in cfg if key.endswith('_dataloader') and cfg[key]]
        assert loaders and all(loader.num_workers == 0 for loader in loaders)
    table = precisions.precision_table({'retrieval': results})
    assert '| retrieval | retrieval/Recall@1 | 0.6000 | 0.7000 | +0.1000 |' in table


def test_configs_come_with_their_checkpoints(capsys):
    with pytest.raises(SystemExit):
        precision_main([RETRIEVAL])
    assert 'CONFIG CKPT [CONFIG CKPT ...]' in capsys.readouterr().err
