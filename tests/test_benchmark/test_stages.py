"""The stage profile of one inference: every stage timed where the model runs it, and the
stages add up to the step."""
import json
import os
import time

import pytest

from mmlow.analysis import count_macs
from mmlow.deploy.loading import model_from_config
from mmlow.benchmark.stages import StageTimer, profile_stages
from mmlow.benchmark.synthetic import synthetic_batch
from tools.analysis.profile_stages import main as profile_main

RETINANET = 'configs/detection/retinanet_lowformer_b1_shapes.py'
SEMANTIC_FPN = 'configs/segmentation/fpn_lowformer_b1_shapes.py'


def _adds_up(stages_ms):
    assert abs(stages_ms['other']) <= 0.05 * stages_ms['total'], stages_ms


def test_each_stage_is_timed_where_the_model_runs_it(repo_root):
    """A known delay put into each part shows up in that stage, and only there."""
    model, scope = model_from_config(os.path.join(repo_root, RETINANET))
    delays = dict(preprocess=0.02, backbone=0.04, neck=0.06, head=0.08, postprocess=0.10)
    parts = dict(preprocess=(model.data_preprocessor, 'forward'),
                 backbone=(model.backbone, 'forward'), neck=(model.neck, 'forward'),
                 head=(model.bbox_head, 'forward'),
                 postprocess=(model.bbox_head, 'predict_by_feat'))
    for stage, (owner, attr) in parts.items():
        original = getattr(owner, attr)

        def slowed(*args, original=original, delay=delays[stage], **kwargs):
            time.sleep(delay)
            return original(*args, **kwargs)
        setattr(owner, attr, slowed)
    timer = StageTimer()
    assert timer.attach(model)
    assert not StageTimer().attach(model)  # one timer per model
    data = synthetic_batch(scope, (64, 64), 1)
    start = time.perf_counter()
    model.test_step(data)
    step_ms = (time.perf_counter() - start) * 1e3
    stages = timer.take()
    timer.detach()
    assert list(stages) == list(delays)
    for stage, delay in delays.items():  # each delay lands in its own stage...
        assert stages[stage] >= delay * 1e3, (stage, stages)
    assert sum(stages.values()) <= step_ms  # ...and in no other one (none counted twice)
    assert not any(getattr(getattr(owner, attr), 'stage_timed', False)
                   for owner, attr in parts.values())  # detached


@pytest.mark.parametrize('config, backends, stages', [
    (RETINANET, ['cpu', 'onnxruntime'],
     [('preprocess', 'backbone', 'neck', 'head', 'postprocess'),
      ('preprocess', 'network', 'postprocess')]),
    (SEMANTIC_FPN, ['cpu'], [('preprocess', 'backbone', 'neck', 'head', 'postprocess')]),
])
def test_profile_stages_add_up_to_the_step(repo_root, config, backends, stages):
    rows = profile_stages(os.path.join(repo_root, config), backends=backends, shape=(64, 64),
                          iters=3, warmup=1, candidates='all' if config == RETINANET else None)
    assert [row['backend'] for row in rows] == backends
    model, _ = model_from_config(os.path.join(repo_root, config))
    padded = (1, 3, 64, 64)  # both configs pad 64x64 to a multiple of 32
    for row, expected in zip(rows, stages):
        assert tuple(row['stages_ms'])[:-2] == expected
        assert all(row['stages_ms'][stage] > 0 for stage in expected)
        _adds_up(row['stages_ms'])
        # each network stage's MACs (the network's: all of them), and its rate over its time
        network = [stage for stage in expected if stage not in ('preprocess', 'postprocess')]
        assert list(row['gmacs']) == network
        if 'backbone' in network:
            assert row['gmacs']['backbone'] * 1e9 == count_macs(model.backbone, padded)
        if 'network' in network:
            assert row['gmacs']['network'] * 1e9 == count_macs(model, padded)
        else:  # a segmenter's logit resize runs between its stages
            assert sum(row['gmacs'].values()) * 1e9 == pytest.approx(count_macs(model, padded),
                                                                      rel=2e-3)
        for stage in network:
            assert row['gflops'][stage] == pytest.approx(
                2 * row['gmacs'][stage] / row['stages_ms'][stage] * 1e3)
        assert row['peak_gflops'] > 0


def test_two_stage_detector_is_refused(repo_root):
    with pytest.raises(ValueError, match='two-stage'):
        profile_stages(os.path.join(repo_root, 'configs/detection/mask-rcnn_lowformer_b1_shapes.py'),
                       shape=(64, 64), iters=1, warmup=0)


def test_profile_tool_prints_the_table_and_writes_json(repo_root, tmp_path, capsys):
    out = tmp_path / 'stages.json'
    assert profile_main([os.path.join(repo_root, RETINANET), '--shape', '64', '64', '--iters',
                         '2', '--warmup', '1', '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith('GMACs per image: backbone ')
    assert '| backend | precision | preprocess | backbone | neck | head | postprocess | other ' \
           '| total ms |' in printed
    (row, ) = json.loads(out.read_text())
    assert f'| cpu | fp32 | {row["stages_ms"]["preprocess"]:.1f} (' in printed
    head = row['stages_ms']['head']
    assert (f'{head:.1f} ({100 * head / row["stages_ms"]["total"]:.0f} %), '
            f'{row["gflops"]["head"]:.0f} (') in printed
