"""tools/gpu_check.py on a machine without a GPU: everything that does not need one."""
import json
import os
import subprocess
import types

import pytest
import torch
import torch.nn.functional as F

from mmlow.reports import gpu_check
from mmlow.benchmark import latency_stats, make_record
from tools import gpu_check as gpu_check_tool
from tools import test as test_tool
from tools import train as train_tool


def test_without_gpu_one_error_line_and_exit_2(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert gpu_check_tool.main(['--out-dir', str(tmp_path / 'out')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error: torch sees no CUDA GPU')
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('argv, message', [
    (['--backends', 'cuda', 'opencl'], "invalid choice: 'opencl'"),
    (['--iters', '0'], '--iters must be at least 1'),
    (['--train-epochs', '0'], '--train-epochs must be at least 1'),
])
def test_bad_arguments_are_named(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        gpu_check_tool.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_backends_parse():
    assert gpu_check_tool.parse_args([]).backends == list(gpu_check.GPU_BACKENDS)
    assert gpu_check_tool.parse_args(['--backends', 'cuda-fp16', 'cuda']).backends == [
        'cuda-fp16', 'cuda']
    with pytest.raises(SystemExit):  # the one spelling: space-separated names
        gpu_check_tool.parse_args(['--backends', 'cuda,cuda-fp16'])


def test_focal_loss_reference_equals_mmdet():
    """The CPU reference the CUDA op is checked against is mmdet's own PyTorch focal loss."""
    from mmdet.models.losses.focal_loss import py_sigmoid_focal_loss
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(64, 5, generator=gen) * 3
    labels = torch.randint(0, 6, (64, ), generator=gen)  # 5 = background
    one_hot = F.one_hot(labels, 6)[:, :5]
    expected = py_sigmoid_focal_loss(logits, one_hot, gamma=2.0, alpha=0.25, reduction='sum')
    got = gpu_check._reference_sigmoid_focal_loss(logits, labels)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)


def test_op_check_records_failures_instead_of_stopping():
    """On the CPU the comparison machinery runs for nms and RoIAlign (equal to themselves),
    while the focal loss, which mmcv has for CUDA only, is a recorded failure, not a crash."""
    rows = {row['op']: row for row in gpu_check.check_ops('cpu')}
    assert set(rows) == {'nms', 'roi_align', 'sigmoid_focal_loss'}
    assert rows['nms']['ok'] and rows['nms']['max_abs_diff'] == 0.0
    assert rows['roi_align']['ok'] and rows['roi_align']['max_abs_diff'] == 0.0
    assert not rows['sigmoid_focal_loss']['ok']
    assert 'not found' in rows['sigmoid_focal_loss']['error']


def fake_record(config, backend='cuda', median=5.0):
    stats = latency_stats([median, median * 1.1, median * 0.9], [1, 1, 1])
    return make_record(model='RetinaNet/LowFormer', config=config, phase='benchmark',
                       mode='end2end', backend=backend, device='cpu', precision='fp16',
                       deploy=True, batch_size=1, input_shape=[1, 3, 800, 1344], warmup=2,
                       stats=stats)


def test_report_written_as_json_and_markdown(tmp_path):
    ok_row = dict(config='configs/detection/x.py', backend='cuda', mode='end2end',
                  input='800x1333', ok=True, record=fake_record('x.py'))
    failed_row = dict(config='configs/detection/y.py', backend='tensorrt', mode='end2end',
                      input='800x1333', ok=False,
                      error="error: backend 'tensorrt' is unavailable here")
    report = dict(
        environment=dict(python='3.11', torch='2.14.1', torch_cuda='13.0', mmcv='2.1.0',
                         mmcv_ops_cuda='13.0', gpus=['NVIDIA H200'], capability='9.0',
                         install_seconds=742.0),
        ops=[dict(op='nms', device='cuda', tolerance=0.0, max_abs_diff=0.0, ok=True)],
        training=dict(config=gpu_check.TRAIN_CONFIG, epochs=2, train_seconds=61.0,
                      test_seconds=4.0, ok=True, metrics={'coco/bbox_mAP': 0.612}),
        latency=[ok_row, failed_row], total_seconds=300.0)
    paths = gpu_check.write_report(report, str(tmp_path))
    assert json.loads(open(paths['json']).read()) == report
    markdown = open(paths['markdown']).read()
    assert 'NVIDIA H200' in markdown
    assert 'the mmcv CUDA build on a first run): 742 s.' in markdown
    assert '| nms | 0.00e+00 | 0.0 | ok |' in markdown
    assert 'coco/bbox_mAP 0.612' in markdown
    assert '| RetinaNet/LowFormer | x.py | end2end | cuda | fp16 | 800x1333 | 5.00 |' in markdown
    assert "| y.py | end2end | tensorrt | - | 800x1333 | not run: error: backend 'tensorrt'" \
        in markdown
    assert not list(tmp_path.glob('*.tmp-*'))


def test_report_refuses_a_record_without_its_keys(tmp_path):
    record = fake_record('x.py')
    del record['median_ms']
    report = dict(environment={}, ops=[], training=None, latency=[
        dict(config='x.py', backend='cuda', mode='end2end', input='1x1', ok=True, record=record)])
    with pytest.raises(ValueError, match='median_ms'):
        gpu_check.write_report(report, str(tmp_path))


def fake_gpu(monkeypatch):
    """A machine whose torch sees a GPU, with the op check left out."""
    monkeypatch.setattr(gpu_check.torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(gpu_check, 'environment', lambda: dict(
        python='3.11', torch='2.14.1', torch_cuda='13.0', mmcv='2.1.0', mmcv_ops_cuda='13.0',
        gpus=['fake GPU'], capability='9.0'))
    monkeypatch.setattr(gpu_check, 'check_ops', lambda device: [])


def test_check_runs_every_step_and_row(monkeypatch, tmp_path):
    """The orchestration with each step replaced: every (config, backend) pair gets a row, the
    papers' backbones theirs, and the report lands on disk."""
    fake_gpu(monkeypatch)
    monkeypatch.setattr(gpu_check, 'check_ops', lambda device: [
        dict(op='nms', device=device, tolerance=0.0, max_abs_diff=0.0, ok=True)])
    monkeypatch.setattr(gpu_check, 'train_shapes', lambda out_dir, epochs, budget_s: dict(
        config=gpu_check.TRAIN_CONFIG, epochs=epochs, train_seconds=1.0, test_seconds=1.0,
        ok=True, metrics={'coco/bbox_mAP': 0.5}))
    calls = []

    def fake_time(config, backend, shape, iters, warmup, backbone_only=False):
        calls.append((config, backend, tuple(shape), backbone_only))
        return dict(config=config, backend=backend, input=f'{shape[0]}x{shape[1]}', ok=True,
                    mode='backbone' if backbone_only else 'end2end',
                    record=fake_record(config, backend))
    monkeypatch.setattr(gpu_check, 'time_config', fake_time)
    report = gpu_check.check(str(tmp_path), backends=['cuda', 'cuda-fp16'], log=lambda _: None)
    assert len(calls) == len(gpu_check.END_TO_END) * 2 + len(gpu_check.PAPER_BACKBONES)
    assert ('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', 'cuda-fp16', (800, 1333),
            False) in calls
    assert all(backbone for _, backend, shape, backbone in calls
               if backend == gpu_check.PAPER_BACKEND and shape == (224, 224))
    assert report['training']['epochs'] == 2
    # TensorRT's slow engine builds come last, after every quicker row
    assert [backend for _, backend, _, _ in gpu_check.latency_jobs(gpu_check.GPU_BACKENDS)][
        -len(gpu_check.END_TO_END):] == ['tensorrt'] * len(gpu_check.END_TO_END)
    assert (tmp_path / 'report.md').is_file() and (tmp_path / 'report.json').is_file()


def test_spent_budget_skips_the_remaining_rows(monkeypatch, tmp_path):
    fake_gpu(monkeypatch)
    timed = []
    monkeypatch.setattr(gpu_check, 'time_config', lambda *args, **kwargs: timed.append(args))
    report = gpu_check.check(str(tmp_path), backends=['cuda'], skip_train=True, budget_s=-1,
                             log=lambda _: None)
    assert not timed
    assert report['latency'] and all(not row['ok'] and row['error'].startswith('skipped')
                                     for row in report['latency'])


def test_a_backend_that_cannot_run_becomes_a_row_with_its_reason(monkeypatch, tmp_path):
    """The latency tools' real pipeline, from a cwd outside the repository (its config paths
    are the repository's): without a GPU the cuda row says why."""
    monkeypatch.chdir(tmp_path)
    row = gpu_check.time_config('configs/detection/retinanet_lowformer_b1_shapes.py', 'cuda',
                                (64, 64), iters=1, warmup=0)
    assert not row['ok']
    assert "backend 'cuda' is unavailable here" in row['error']


def test_environment_records_the_install_time_gpu_check_sh_measured(monkeypatch):
    monkeypatch.setenv('MMLOW_INSTALL_SECONDS', '742')
    assert gpu_check.environment()['install_seconds'] == 742.0
    monkeypatch.delenv('MMLOW_INSTALL_SECONDS')
    assert gpu_check.environment()['install_seconds'] is None


class FakeTools:
    """subprocess.run for tools/train.py and tools/test.py: records each command, its cwd and
    its timeout; 'test' writes its --metrics-out where the real tool would (relative to its
    cwd); ``cut`` names a tool that runs past its timeout."""

    def __init__(self, cut=None):
        self.calls = []
        self.cut = cut

    def __call__(self, cmd, cwd, stdout, stderr, timeout):
        tool = os.path.splitext(os.path.basename(cmd[1]))[0]
        self.calls.append(dict(tool=tool, argv=cmd[2:], cwd=cwd, timeout=timeout))
        stdout.write(f'{tool} ran\n')
        if tool == self.cut:
            raise subprocess.TimeoutExpired(cmd, timeout)
        if tool == 'test':
            metrics_out = cmd[cmd.index('--metrics-out') + 1]
            path = os.path.join(cwd, metrics_out)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'w') as f:
                json.dump({'coco/bbox_mAP': 0.5}, f)
        return types.SimpleNamespace(returncode=0)


def test_relative_out_dir_from_another_cwd(monkeypatch, tmp_path):
    """The tools run in the repository while the check reads their metrics from its own cwd:
    a relative --out-dir must still lead both to the same files. Training gets half of the
    time budget, the evaluation what is left."""
    fake_gpu(monkeypatch)
    tools = FakeTools()
    monkeypatch.setattr(gpu_check.subprocess, 'run', tools)
    # a stand-in repository, so that a relative path resolved there cannot touch the real one
    monkeypatch.setattr(gpu_check, 'REPO_ROOT', str(tmp_path / 'repo'))
    (tmp_path / 'repo').mkdir()
    (tmp_path / 'elsewhere').mkdir()
    monkeypatch.chdir(tmp_path / 'elsewhere')
    report = gpu_check.check('out', skip_latency=True, budget_s=300, log=lambda _: None)
    assert report['training']['ok'], report['training']
    assert report['training']['metrics'] == {'coco/bbox_mAP': 0.5}
    assert (tmp_path / 'elsewhere' / 'out' / 'report.json').is_file()
    assert not (tmp_path / 'repo' / 'out').exists()
    train, test = tools.calls
    assert 149 < train['timeout'] <= 150
    assert test['timeout'] == pytest.approx(300 - report['training']['train_seconds'], abs=2)


def test_the_tool_command_lines_are_ones_the_tools_accept(monkeypatch, tmp_path):
    tools = FakeTools()
    monkeypatch.setattr(gpu_check.subprocess, 'run', tools)
    result = gpu_check.train_shapes(str(tmp_path), 3, budget_s=100)
    assert result['ok'], result
    train, test = tools.calls
    work_dir = str(tmp_path / 'train_shapes')
    assert train['cwd'] == test['cwd'] == gpu_check.REPO_ROOT
    monkeypatch.chdir(gpu_check.REPO_ROOT)
    monkeypatch.setenv('LOCAL_RANK', '0')
    cfg = train_tool.build_cfg(train_tool.parse_args(train['argv']))
    assert cfg.train_cfg.max_epochs == 3 and cfg.train_cfg.val_interval == 3
    assert cfg.work_dir == work_dir
    args = test_tool.parse_args(test['argv'])
    assert args.config == gpu_check.TRAIN_CONFIG and args.checkpoint == work_dir
    assert args.metrics_out == os.path.join(work_dir, 'metrics.json')


@pytest.mark.parametrize('cut, step', [('train', 'training'), ('test', 'evaluation')])
def test_a_step_cut_off_by_its_time_limit_says_so(monkeypatch, tmp_path, cut, step):
    monkeypatch.setattr(gpu_check.subprocess, 'run', FakeTools(cut=cut))
    result = gpu_check.train_shapes(str(tmp_path), 2, budget_s=100)
    assert not result['ok'] and result['cut_by_timeout'] == step
    assert f'{step} cut off by its time limit' in result['error']
    assert '--budget-min' in result['error']
    report = dict(environment=dict(torch='2.14.1', torch_cuda='13.0', mmcv='2.1.0',
                                   mmcv_ops_cuda='13.0'), ops=[], training=result, latency=[])
    assert f'failed: {step} cut off by its time limit' in gpu_check.render_markdown(report)
