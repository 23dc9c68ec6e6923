"""Every backend runs a tiny backbone and matches eager; GPU ones say clearly when absent."""
import os
import sys
import types

import pytest
import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.registry import MODELS, init_default_scope

from mmlow.deploy import (BACKENDS, BackendModel, BackendUnavailableError, OutputMismatchError, available_backends, build_backend, check_backend)

from mmlow.benchmark import synthetic_batch
from mmlow.analysis import count_macs
from mmlow.deploy import backends
from mmlow.deploy.backends import TOLERANCES, relative_errors
from mmlow.deploy.loading import model_from_config
from mmlow.models import LowFormer
from tests.conftest import randomize_

CPU_BACKENDS = ['cpu', 'cpu-channels-last', 'torchscript', 'onnxruntime', 'openvino']
GPU_BACKENDS = ['cuda', 'cuda-torchscript', 'cuda-fp16', 'tensorrt']


def _lowformer(arch='b0'):
    # random weights and BN statistics: a wrong BN fusion cannot hide behind identity BN
    return randomize_(LowFormer(arch=arch, out_indices=(1, 2, 3))).eval()


def test_backend_table_is_complete():
    assert list(BACKENDS) == (['cpu', 'cpu-channels-last', 'cpu-compile'] + CPU_BACKENDS[2:] +
                              GPU_BACKENDS)
    assert set(CPU_BACKENDS) < set(available_backends())


@pytest.mark.parametrize('name', CPU_BACKENDS)
def test_cpu_backend_matches_eager(name):
    backbone = _lowformer()
    x = torch.randn(1, 3, 64, 64)
    forward = build_backend(name, backbone, x)
    assert forward.precision == 'fp32' and forward.device == 'cpu'
    with torch.no_grad():
        expected = backbone(x)
    got = forward(torch.randn(1, 3, 64, 64)) and forward(x)  # reusable, same input shape
    assert isinstance(got, tuple) and len(got) == 3
    assert max(relative_errors(expected, got)) <= TOLERANCES['fp32']
    with pytest.raises(ValueError, match='built for input'):
        forward(torch.randn(1, 3, 96, 64))


@pytest.mark.parametrize('name', ['cpu', 'cpu-channels-last', 'openvino'])
def test_bf16_is_labelled_and_really_bf16(name):
    backbone = _lowformer()
    x = torch.randn(1, 3, 64, 64)
    fp32 = build_backend(name, backbone, x)
    bf16 = build_backend(name, backbone, x, precision='bf16')
    assert bf16.precision == 'bf16'
    assert fp32.max_error < 1e-4  # f32 is asked for explicitly: this CPU would pick bf16
    assert 1e-4 < bf16.max_error <= TOLERANCES['bf16']


def test_channels_last_runs_nhwc():
    forward = build_backend('cpu-channels-last', _lowformer(), torch.randn(1, 3, 64, 64))
    outputs = forward(torch.randn(1, 3, 64, 64))
    assert all(out.is_contiguous(memory_format=torch.channels_last) and
               not out.is_contiguous() for out in outputs)


def test_torch_compile_matches_eager():
    # inductor compiles C++ per kernel: the smallest LowFormer that still has attention
    backbone = randomize_(LowFormer(arch=dict(widths=(8, 16, 32, 64, 64), depths=(0, 1, 1, 1, 1)),
                                    out_indices=(3, ))).eval()
    x = torch.randn(1, 3, 64, 64)
    forward = build_backend('cpu-compile', backbone, x)
    with torch.no_grad():
        assert max(relative_errors(backbone(x), forward(x))) <= TOLERANCES['fp32']
    bf16 = build_backend('cpu-compile', backbone, x, precision='bf16')
    assert bf16.precision == 'bf16' and 1e-4 < bf16.max_error <= TOLERANCES['bf16']


@pytest.mark.skipif(torch.cuda.is_available(), reason='a CUDA GPU is present')
@pytest.mark.parametrize('name', GPU_BACKENDS)
def test_gpu_backend_without_gpu_is_a_clear_error(name):
    with pytest.raises(BackendUnavailableError) as error:
        check_backend(name)
    message = str(error.value)
    assert f"backend '{name}' is unavailable here" in message
    assert 'no CUDA GPU' in message
    assert 'Backends available here: cpu, cpu-channels-last, cpu-compile, torchscript' in message


def _fake_tensorrt(version, **flags):
    return types.SimpleNamespace(__version__=version, BuilderFlag=types.SimpleNamespace(**flags))


def test_tensorrt_without_the_fp16_flag_says_which_version_to_install(monkeypatch):
    """TensorRT 11 removed BuilderFlag.FP16: an fp16 build names the version, not an
    AttributeError from deep inside the engine build."""
    monkeypatch.setitem(sys.modules, 'tensorrt', _fake_tensorrt('11.4.0.106', TF32=7))
    with pytest.raises(BackendUnavailableError) as error:
        backends._tensorrt_runner(None, None, 'fp16', None)
    message = str(error.value)
    assert 'TensorRT 11.4.0.106' in message and 'requirements/gpu.txt' in message
    assert 'tensorrt/fp32' in message
    assert backends._tensorrt_fp16_flag(_fake_tensorrt('10.16.1.11', FP16=3)) == 3


def test_pinned_tensorrt_is_10_with_its_parts_at_one_version(repo_root):
    """The fp16 engine build needs TensorRT 10 (see the test above); its three packages move
    together."""
    with open(os.path.join(repo_root, 'requirements', 'gpu.txt')) as f:
        pins = dict(line.strip().split('==') for line in f
                    if line.strip() and not line.startswith('#'))
    assert set(pins) == {'tensorrt-cu13', 'tensorrt-cu13-bindings', 'tensorrt-cu13-libs'}
    assert len(set(pins.values())) == 1 and pins['tensorrt-cu13'].startswith('10.')


def test_unknown_backend_and_precision_are_refused():
    with pytest.raises(ValueError, match='unknown backend'):
        check_backend('tpu')
    for name in ('cpu', 'cpu-compile', 'openvino'):
        with pytest.raises(ValueError, match='fp32 or bf16'):
            check_backend(name, 'fp16')
    with pytest.raises(ValueError, match="runs at precision fp32 or int8, not 'bf16'"):
        check_backend('onnxruntime', 'bf16')


class _NormBeforeConv(nn.Module):
    """BN registered after the conv but applied before it: naive conv-BN fusion gets it wrong."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x):
        return self.conv(self.bn(x))


def test_a_wrong_fusion_is_an_error_not_a_number():
    module = randomize_(_NormBeforeConv()).eval()
    with pytest.raises(OutputMismatchError, match='BN-fused'):
        build_backend('onnxruntime', module, torch.randn(1, 4, 8, 8))


def test_segmenter_predicts_alike_on_a_backend():
    """Semantic FPN (LowFormer-B0): backend forward, eager resize and argmax around it."""
    init_default_scope('mmseg')
    model = MODELS.build(ConfigDict(  # attribute access, as mmseg reads test_cfg.mode
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
        backbone=dict(type='LowFormer', arch='b0', out_indices=(0, 1, 2, 3)),
        neck=dict(type='FPN', in_channels=[32, 64, 128, 256], out_channels=32, num_outs=4),
        decode_head=dict(type='FPNHead', in_channels=[32] * 4, in_index=[0, 1, 2, 3],
                         feature_strides=[4, 8, 16, 32], channels=16, num_classes=5,
                         norm_cfg=dict(type='BN'), align_corners=False,
                         loss_decode=dict(type='CrossEntropyLoss')),
        test_cfg=dict(mode='whole')))
    randomize_(model).eval()
    data = synthetic_batch('mmseg', (64, 96), 2)
    with torch.no_grad():
        expected = model.test_step(data)
    backend_model = BackendModel(model, 'onnxruntime')
    got = backend_model.test_step(data)
    assert backend_model.built_last_step
    for e, g in zip(expected, got):
        assert g.seg_logits.data.shape == (5, 64, 96)
        assert relative_errors([e.seg_logits.data], [g.seg_logits.data])[0] <= 1e-3
        assert (e.pred_sem_seg.data == g.pred_sem_seg.data).float().mean() > 0.999
    backend_model.test_step(data)
    assert not backend_model.built_last_step  # built once per input shape


def test_two_stage_detector_is_refused_by_exporting_backends():
    init_default_scope('mmdet')

    class TwoStage(nn.Module):  # what matters is the class name in the MRO, and no bbox_head
        data_preprocessor = nn.Identity()

    TwoStage.__name__ = 'TwoStageDetector'
    with pytest.raises(TypeError, match='cannot run its tensor forward on a backend'):
        BackendModel(TwoStage().eval(), 'torchscript')


def test_two_stage_detector_runs_whole_in_eager(repo_root):
    model, scope = model_from_config(
        os.path.join(repo_root, 'configs/detection/mask-rcnn_lowformer_b1_shapes.py'))
    backend_model = BackendModel(model, 'cpu')
    (result, ) = backend_model.test_step(synthetic_batch(scope, (64, 96), 1))
    assert 'masks' in result.pred_instances
    # MACs count the second stage too, for the proposals the RPN keeps
    assert count_macs(model, (1, 3, 64, 96)) > count_macs(model.backbone, (1, 3, 64, 96)) > 0


@pytest.mark.parametrize('backend', ['onnxruntime'])
def test_two_stage_detector_runs_its_features_on_a_backend(repo_root, backend):
    """Mask R-CNN: backbone and neck on the backend, RPN and RoI heads eager; the same
    detections as the eager model."""
    model, scope = model_from_config(
        os.path.join(repo_root, 'configs/detection/mask-rcnn_lowformer_b1_shapes.py'))
    randomize_(model.backbone)
    model.test_cfg.rcnn.score_thr = 0.
    data = synthetic_batch(scope, (64, 96), 1)
    (expected, ) = model.test_step(data)
    backend_model = BackendModel(model, backend)
    (got, ) = backend_model.test_step(data)
    assert backend_model.features_only and backend_model.built_last_step
    assert backend_model.forward_ms > 0
    assert len(got.pred_instances) == len(expected.pred_instances) > 0
    torch.testing.assert_close(got.pred_instances.bboxes, expected.pred_instances.bboxes,
                               rtol=1e-3, atol=1e-2)
    assert 'masks' in got.pred_instances
