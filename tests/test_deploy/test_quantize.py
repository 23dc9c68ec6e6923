"""INT8 post-training quantization (mmlow.deploy.quantize): calibration from the config's
training set through its test pipeline, quantized builds on both CPU runtimes, what stays in
floating point, and the refusal of an uncalibrated INT8 model."""
import os

import numpy as np
import onnx
import pytest
import torch
from mmengine.registry import DATASETS, DefaultScope

from mmlow.deploy import BackendModel, build_backend
from mmlow.deploy.backends import TOLERANCES, relative_errors
from mmlow.deploy.loading import build_model
from mmlow.deploy.quantize import (KEEP_FLOAT, Calibration, NotCalibratedError,
                                   calibration_from_config, nodes_kept_float)
from tests.tiny_configs import tiny_shapes_cfg

DETECTION = 'configs/detection/retinanet_lowformer_b1_shapes.py'
pytestmark = pytest.mark.usefixtures('single_thread')


@pytest.fixture(scope='module')
def detector(tmp_path_factory):
    """A tiny RetinaNet-LowFormer-B1 shapes config whose training pipeline flips every image
    (so that an image read through it cannot pass for the test pipeline's), and its model."""
    root = tmp_path_factory.mktemp('quantize')
    repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cfg = tiny_shapes_cfg(os.path.join(repo_root, DETECTION), str(root / 'shapes'),
                          str(root / 'work'), num_train=6, num_val=2)
    for transform in cfg.train_dataloader.dataset.pipeline:
        if transform['type'] == 'RandomFlip':
            transform['prob'] = 1.0
    return cfg, build_model(cfg, seed=0)


def _dataset(cfg, split_loader, pipeline_loader):
    dataset = dict(cfg[split_loader].dataset, pipeline=cfg[pipeline_loader].dataset.pipeline)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return DATASETS.build(dataset)


def test_calibration_reads_the_training_set_through_the_test_pipeline(detector):
    cfg, model = detector
    calibration = calibration_from_config(cfg, model.data_preprocessor, num_images=4)
    assert len(calibration.images) == len(set(calibration.files)) == 4
    train = _dataset(cfg, 'train_dataloader', 'test_dataloader')
    val = _dataset(cfg, 'val_dataloader', 'test_dataloader')
    train_files = [train.get_data_info(i)['img_path'] for i in range(len(train))]
    val_files = {val.get_data_info(i)['img_path'] for i in range(len(val))}
    assert set(calibration.files) <= set(train_files)
    assert not set(calibration.files) & val_files
    assert '4 images of the training set' in calibration.source
    for path, image in zip(calibration.files, calibration.images):
        sample = train[train_files.index(path)]
        expected = model.data_preprocessor(
            {'inputs': [sample['inputs']], 'data_samples': [sample['data_samples']]},
            False)['inputs']
        torch.testing.assert_close(image, expected, rtol=0, atol=0)
    # a fixed subset: the same images again, others under another seed
    again = calibration_from_config(cfg, model.data_preprocessor, num_images=4)
    assert again.files == calibration.files
    other = calibration_from_config(cfg, model.data_preprocessor, num_images=4, seed=1)
    assert other.files != calibration.files


def test_calibration_images_fit_a_fixed_input_as_the_test_pipeline_fits_them():
    wide = torch.arange(2 * 4, dtype=torch.float32).reshape(1, 1, 2, 4) + 1
    calibration = Calibration((wide, ), 'test')
    (fitted, ) = calibration.inputs_for((1, 1, 8, 8))
    # scaled by 2 to fit the width, keeping the aspect ratio; zero below (the mean pixel)
    assert fitted.shape == (1, 1, 8, 8)
    assert (fitted[0, 0, :4] != 0).all() and (fitted[0, 0, 4:] == 0).all()
    with pytest.raises(ValueError, match='3 channels'):
        Calibration((torch.zeros(1, 3, 4, 4), ), 'test').inputs_for((1, 1, 4, 4))


def _ort_float_convs(path):
    """Conv nodes of a QDQ model whose weight is not dequantized from int8."""
    graph = onnx.load(path).graph
    producers = {out: node for node in graph.node for out in node.output}
    return {node.name for node in graph.node if node.op_type == 'Conv' and
            getattr(producers.get(node.input[1]), 'op_type', None) != 'DequantizeLinear'}


def _ov_float_convs(path):
    import openvino as ov
    model = ov.Core().read_model(path)
    convs = [op for op in model.get_ordered_ops() if op.get_type_name() == 'Convolution']
    # a quantized convolution's weights are an int8 constant, converted and scaled (Multiply)
    return {op.get_friendly_name() for op in convs
            if op.input_value(1).get_node().get_type_name() == 'Constant'}


@pytest.mark.parametrize('backend', ['onnxruntime', 'openvino'])
def test_int8_build_is_quantized_close_to_fp32_and_keeps_the_chosen_convs_float(
        detector, tmp_path, backend):
    cfg, model = detector
    calibration = calibration_from_config(cfg, model.data_preprocessor, num_images=4)
    x = calibration.images[1]
    with torch.no_grad():
        expected = [out for level in model(x, mode='tensor') for out in level]
    fp32_path, int8_path = str(tmp_path / 'model.onnx'), str(tmp_path / 'int8.onnx')
    forward = build_backend(backend, model, x, 'int8', calibration=calibration,
                            onnx_path=fp32_path, quantized_path=int8_path)
    got = [out for level in forward(x) for out in level]
    errors = relative_errors(expected, got)
    # quantized (fp32 builds agree within 1e-5), and within the int8 tolerance of fp32
    assert forward.precision == 'int8'
    assert 1e-3 < max(errors) < TOLERANCES['int8']

    kept = nodes_kept_float(fp32_path, KEEP_FLOAT)
    graph = onnx.load(fp32_path).graph
    first = next(node.name for node in graph.node if node.op_type == 'Conv')
    # the first conv, and a classification and a box conv per level, which end at the outputs
    assert first in kept and len(kept) == 1 + len(graph.output)
    if backend == 'onnxruntime':
        float_convs = _ort_float_convs(int8_path)
        kept = nodes_kept_float(int8_path.replace('.onnx', '_prepared.onnx'), KEEP_FLOAT)
    else:
        float_convs = _ov_float_convs(int8_path.replace('.onnx', '.xml'))
        kept = {name + '/WithoutBiases' for name in kept}
    num_convs = sum(node.op_type == 'Conv' for node in graph.node)
    assert float_convs == set(kept) and len(kept) < num_convs


def test_uncalibrated_int8_is_refused(detector):
    _, model = detector
    x = torch.randn(1, 3, 64, 64)
    for backend in ('onnxruntime', 'openvino'):
        with pytest.raises(NotCalibratedError, match='needs calibration images'):
            build_backend(backend, model, x, 'int8')
        with pytest.raises(NotCalibratedError, match='needs calibration images'):
            BackendModel(model, backend, 'int8')
    with pytest.raises(NotCalibratedError):
        Calibration((), 'an empty split')
    with pytest.raises(ValueError, match="not 'int8'"):
        build_backend('cpu', model, x, 'int8', calibration=Calibration((x, ), 'test'))
    assert np.isfinite(x.numpy()).all()
