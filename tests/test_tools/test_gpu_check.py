"""tools/gpu_check.py on a machine without a GPU: everything that does not need one."""
import json

import pytest
import torch
import torch.nn.functional as F

from mmlow.apis import gpu_check
from mmlow.benchmark import latency_stats, make_record
from tools import gpu_check as gpu_check_tool


def test_without_gpu_one_error_line_and_exit_2(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert gpu_check_tool.main(['--out-dir', str(tmp_path / 'out')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error: torch sees no CUDA GPU')
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('argv, message', [
    (['--backends', 'cuda,opencl'], "unknown GPU backend(s) ['opencl']"),
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
    assert gpu_check_tool.parse_args(['--backends', 'cuda-fp16, cuda']).backends == [
        'cuda-fp16', 'cuda']


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
                         mmcv_ops_cuda='13.0', gpus=['NVIDIA H200'], capability='9.0'),
        ops=[dict(op='nms', device='cuda', tolerance=0.0, max_abs_diff=0.0, ok=True)],
        training=dict(config=gpu_check.TRAIN_CONFIG, epochs=2, train_seconds=61.0,
                      test_seconds=4.0, ok=True, metrics={'coco/bbox_mAP': 0.612}),
        latency=[ok_row, failed_row], total_seconds=300.0)
    paths = gpu_check.write_report(report, str(tmp_path))
    assert json.loads(open(paths['json']).read()) == report
    markdown = open(paths['markdown']).read()
    assert 'NVIDIA H200' in markdown
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


def test_check_runs_every_step_and_row(monkeypatch, tmp_path):
    """The orchestration with each step replaced: every (config, backend) pair gets a row, the
    papers' backbones theirs, and the report lands on disk."""
    monkeypatch.setattr(gpu_check.torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(gpu_check, 'environment', lambda: dict(
        python='3.11', torch='2.14.1', torch_cuda='13.0', mmcv='2.1.0', mmcv_ops_cuda='13.0',
        gpus=['fake GPU'], capability='9.0'))
    monkeypatch.setattr(gpu_check, 'check_ops', lambda device: [
        dict(op='nms', device=device, tolerance=0.0, max_abs_diff=0.0, ok=True)])
    monkeypatch.setattr(gpu_check, 'train_shapes', lambda out_dir, epochs: dict(
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
    monkeypatch.setattr(gpu_check.torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(gpu_check, 'environment', lambda: dict(
        python='3.11', torch='2.14.1', torch_cuda='13.0', mmcv='2.1.0', mmcv_ops_cuda='13.0',
        gpus=['fake GPU'], capability='9.0'))
    monkeypatch.setattr(gpu_check, 'check_ops', lambda device: [])
    timed = []
    monkeypatch.setattr(gpu_check, 'time_config', lambda *args, **kwargs: timed.append(args))
    report = gpu_check.check(str(tmp_path), backends=['cuda'], skip_train=True, budget_s=-1,
                             log=lambda _: None)
    assert not timed
    assert report['latency'] and all(not row['ok'] and row['error'].startswith('skipped')
                                     for row in report['latency'])


def test_a_backend_that_cannot_run_becomes_a_row_with_its_reason(repo_root, monkeypatch):
    """The latency tools' real pipeline: without a GPU the cuda row says why."""
    monkeypatch.chdir(repo_root)
    row = gpu_check.time_config('configs/detection/retinanet_lowformer_b1_shapes.py', 'cuda',
                                (64, 64), iters=1, warmup=0)
    assert not row['ok']
    assert "backend 'cuda' is unavailable here" in row['error']
