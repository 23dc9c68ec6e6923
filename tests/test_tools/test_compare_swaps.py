"""tools/compare_swaps.py trains, evaluates and tabulates two tiny backbone swaps."""
import json
import os

from tests.tiny_configs import tiny_shapes_cfg
from tools.compare_swaps import main as compare_swaps_main
from mmlow.reports.swap_runs import training_minutes

SWAPS = ('retinanet_lowformer_b1_shapes', 'retinanet_efficientvit_m4_shapes')


def test_trains_evaluates_and_writes_one_table(tmp_path, repo_root, capsys):
    configs = []
    for name in SWAPS:
        cfg = tiny_shapes_cfg(os.path.join(repo_root, 'configs', 'detection', f'{name}.py'),
                              str(tmp_path / 'shapes'), 'unused')
        configs.append(str(tmp_path / f'{name}.py'))
        cfg.dump(configs[-1])
    work_dir = tmp_path / 'compare'
    args = configs + ['--work-dir', str(work_dir), '--shape', '64', '64', '--iters', '2',
                      '--warmup', '1']
    assert compare_swaps_main(args) == 0

    results = json.loads((work_dir / 'results.json').read_text())
    assert sorted(results) == sorted(SWAPS)
    for name in SWAPS:
        assert 0 <= results[name]['coco/bbox_mAP'] <= 1
        assert results[name]['train min'] == training_minutes(str(work_dir / name)) > 0
    table = (work_dir / 'compare.md').read_text()
    assert table.startswith('| model | coco/bbox_mAP | train min | params (M) | GMACs |')
    for suffix in ('png', 'svg', 'json'):
        assert (work_dir / f'compare.{suffix}').stat().st_size > 0

    # a second call keeps the finished runs: nothing is trained or evaluated again
    checkpoint = work_dir / SWAPS[0] / 'epoch_1.pth'
    metrics = work_dir / SWAPS[0] / 'test_metrics.json'
    stamps = checkpoint.stat().st_mtime_ns, metrics.stat().st_mtime_ns
    assert compare_swaps_main(args[:1] + args[len(SWAPS):]) == 0
    assert (checkpoint.stat().st_mtime_ns, metrics.stat().st_mtime_ns) == stamps
    assert json.loads((work_dir / 'results.json').read_text())[SWAPS[0]]['train min'] == \
        results[SWAPS[0]]['train min']


def test_missing_config_is_reported(tmp_path, capsys):
    assert compare_swaps_main([str(tmp_path / 'nope.py')]) == 2
    assert 'no such config' in capsys.readouterr().err
