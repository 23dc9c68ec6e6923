"""LatencyHook on a tiny RetinaNet-LowFormer over generated 64x64 shapes images."""
import json
import os

import pytest
import torch
from mmengine.runner import Runner

from mmlow.benchmark import RECORD_KEYS
from mmlow.engine import LatencyHook
from tests.tiny_configs import tiny_shapes_cfg

NUM_IMAGES = 8
WARMUP = 2


@pytest.fixture
def tiny_cfg(tmp_path, repo_root):
    return tiny_shapes_cfg(
        os.path.join(repo_root, 'configs/detection/retinanet_lowformer_b1_shapes.py'),
        str(tmp_path / 'shapes'), str(tmp_path / 'work'), num_train=1, num_val=NUM_IMAGES,
        batch_size=1)


def _latency_hooks(runner):
    return [hook for hook in runner.hooks if isinstance(hook, LatencyHook)]


def test_val_records_end_to_end_and_backbone_latency(tiny_cfg):
    tiny_cfg.custom_hooks = [dict(type='LatencyHook', warmup=WARMUP),
                             dict(type='LatencyHook', warmup=WARMUP, mode='backbone')]
    runner = Runner.from_cfg(tiny_cfg)
    runner.val()
    end2end, backbone = _latency_hooks(runner)
    assert (end2end.mode, backbone.mode) == ('end2end', 'backbone')
    for hook in (end2end, backbone):
        (record, ) = hook.records
        assert tuple(record) == RECORD_KEYS
        assert record['phase'] == 'val' and record['mode'] == hook.mode
        assert record['num_iters'] == NUM_IMAGES - WARMUP  # warm-up left out
        assert record['num_images'] == NUM_IMAGES - WARMUP
        assert record['batch_size'] == 1 and record['warmup'] == WARMUP
        assert record['input_shape'] == [1, 3, 64, 64]
        assert record['backend'] == 'cpu' and record['precision'] == 'fp32'
        assert record['model'] == 'RetinaNet/LowFormer'
        assert record['config'] == 'retinanet_lowformer_b1_shapes.py'
        assert record['fps'] > 0
        assert 0 < record['median_ms'] <= record['p90_ms']
        assert record['forward_ms'] is None  # the runner's model runs whole
        assert record['fps'] == pytest.approx(1e3 / record['mean_ms'])
    # score_thr 0 (tiny_shapes_cfg): nms_pre (1,000) or every pair of a level reaches NMS,
    # 9 anchors x 3 classes at 8x8, 4x4, 2x2, 1x1, 1x1 positions
    for hook in (end2end, backbone):
        assert hook.records[0]['nms_candidates'] == 1000 + 27 * (16 + 4 + 1 + 1)
        assert 0 < hook.records[0]['boxes_out'] <= 100
    # the backbone is a part of the whole step
    assert backbone.records[0]['median_ms'] < end2end.records[0]['median_ms']
    # the end-to-end record splits the step into its stages, which add up to it
    stages = end2end.records[0]['stages_ms']
    assert list(stages) == ['preprocess', 'backbone', 'neck', 'head', 'postprocess', 'other',
                            'total']
    assert stages['total'] == pytest.approx(end2end.records[0]['mean_ms'])
    assert abs(stages['other']) <= 0.05 * stages['total'] and stages['backbone'] > 0
    assert backbone.records[0]['stages_ms'] is None

    for hook in (end2end, backbone):
        path = os.path.join(runner.log_dir, f'latency_val_{hook.mode}_cpu_iter0.json')
        with open(path) as f:
            assert json.load(f) == hook.records[0]
    # the scalars reach the visualizer's JSON (and TensorBoard where it is a backend)
    with open(os.path.join(runner.log_dir, 'vis_data', 'scalars.json')) as f:
        scalars = json.loads(f.read().splitlines()[-1])
    assert scalars['latency/fps'] > 0 and 'coco/bbox_mAP' in scalars
    assert scalars['latency/nms_candidates'] == end2end.records[0]['nms_candidates']
    assert scalars['latency/boxes_out'] == end2end.records[0]['boxes_out']
    assert scalars['latency/stages/backbone_ms'] == stages['backbone']
    # the model's own val_step and forwards are back
    assert 'val_step' not in vars(runner.model)
    assert 'forward' not in vars(runner.model.backbone)
    assert 'predict_by_feat' not in vars(runner.model.bbox_head)


def test_test_phase_on_a_backend_leaves_out_the_build(tiny_cfg):
    # no warm-up: the first iteration builds (exports) the backend and is left out for that
    tiny_cfg.custom_hooks = [dict(type='LatencyHook', warmup=0, backend='onnxruntime')]
    runner = Runner.from_cfg(tiny_cfg)
    runner.test()
    (hook, ) = _latency_hooks(runner)
    (record, ) = hook.records
    assert record['phase'] == 'test' and record['backend'] == 'onnxruntime'
    assert record['deploy'] and record['precision'] == 'fp32'
    assert record['num_iters'] == NUM_IMAGES - 1
    assert record['fps'] > 0
    assert 0 < record['forward_ms'] < record['median_ms']  # the rest: pre- and post-processing
    assert list(record['stages_ms']) == ['preprocess', 'network', 'postprocess', 'other',
                                         'total']
    assert abs(record['stages_ms']['other']) <= 0.05 * record['stages_ms']['total']
    assert list(hook.backend_model.builds) == [(1, 3, 64, 64)]  # one build per input shape
    assert os.path.isfile(os.path.join(runner.log_dir,
                                       'latency_test_end2end_onnxruntime_iter0.json'))
    assert 'test_step' not in vars(runner.model)
    # the stage timer is gone, the backend's stand-in is back
    assert not getattr(hook.backend_model.predictor.extract_feat, 'stage_timed', False)


def test_candidates_time_a_copy_with_that_many_over_the_threshold(tiny_cfg):
    tiny_cfg.model.test_cfg.score_thr = 0.05
    tiny_cfg.custom_hooks = [dict(type='LatencyHook', warmup=0, candidates=300)]
    runner = Runner.from_cfg(tiny_cfg)
    bias = runner.model.bbox_head.retina_cls.bias.detach().clone()
    runner.test()
    (hook, ) = _latency_hooks(runner)
    (record, ) = hook.records
    assert record['backend'] == 'cpu' and record['deploy']
    # set on the first image (the model's own bias lets none through); the other shapes
    # images get a like number
    assert 0.3 * 300 <= record['nms_candidates'] <= 3 * 300
    assert record['boxes_out'] > 0
    assert torch.equal(runner.model.bbox_head.retina_cls.bias, bias)  # the model is intact
    assert '_bbox_post_process' not in vars(hook.backend_model.dense_head)  # counter gone


def test_a_backend_hook_does_not_silently_replace_another(tiny_cfg):
    tiny_cfg.custom_hooks = [dict(type='LatencyHook'),
                             dict(type='LatencyHook', backend='onnxruntime')]
    with pytest.raises(ValueError, match='cannot share a run'):
        Runner.from_cfg(tiny_cfg).test()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match='mode'):
        LatencyHook(mode='neck')
    with pytest.raises(ValueError, match='backbone'):
        LatencyHook(mode='backbone', backend='openvino')
    with pytest.raises(ValueError, match='candidates do not apply'):
        LatencyHook(mode='backbone', candidates=100)


@pytest.mark.parametrize('on_cuda, expected', [(True, ('fp16', 'cuda')), (False, ('bf16', 'cpu'))])
def test_a_loops_autocast_is_labelled_as_the_eager_backend_at_that_precision(on_cuda, expected):
    """Autocast is the 'cuda' / 'cpu' backend at fp16 / bf16, never 'cuda-fp16' (fp16
    weights): one label, one meaning, as the backend table has it."""
    from types import SimpleNamespace

    from mmlow.deploy import BACKENDS
    from mmlow.engine import LatencyHook
    hook = LatencyHook()
    hook._on_cuda = on_cuda
    runner = SimpleNamespace(val_loop=SimpleNamespace(fp16=True))
    precision, backend = hook._precision_and_backend(runner, 'val')
    assert (precision, backend) == expected
    assert precision in BACKENDS[backend].precisions
