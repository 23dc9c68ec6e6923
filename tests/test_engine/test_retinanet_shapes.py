"""A tiny end-to-end RetinaNet-LowFormer loop on generated shapes: train, resume, test."""
import glob
import json
import os

import pytest
import torch

from mmlow.runner.launch import _shapes_alternative
from tests.tiny_configs import tiny_shapes_cfg
from tools.quantize import main as quantize_main
from tools.test import main as run_test_tool
from tools.train import main as train_main


# two test batches of 3: tools/test.py --backend leaves out the first (warm-up and build)
NUM_VAL = 6


def _log_text(work_dir):
    logs = sorted(glob.glob(os.path.join(work_dir, '*', '*.log')))
    assert logs, f'no log under {work_dir}'
    with open(logs[-1]) as f:
        return f.read()


def test_train_resume_and_test(tmp_path, repo_root):
    work_dir = str(tmp_path / 'work')
    config = tmp_path / 'tiny_shapes.py'
    tiny_shapes_cfg(os.path.join(repo_root, 'configs/detection/retinanet_lowformer_b1_shapes.py'),
                    str(tmp_path / 'shapes'), work_dir, num_train=6, num_val=NUM_VAL,
                    batch_size=3).dump(str(config))

    assert train_main([str(config), '--work-dir', work_dir]) == 0
    assert (tmp_path / 'shapes' / 'meta.json').exists()  # generated on first use
    first = _log_text(work_dir)
    assert 'coco/bbox_mAP' in first and 'loss_cls' in first
    assert os.path.isfile(os.path.join(work_dir, 'epoch_1.pth'))

    # resume under torch 2.14's weights_only loading and train one more epoch
    assert train_main([str(config), '--work-dir', work_dir, '--resume',
                       '--cfg-options', 'train_cfg.max_epochs=2']) == 0
    resumed = _log_text(work_dir)
    assert 'resumed epoch: 1' in resumed
    checkpoint = torch.load(os.path.join(work_dir, 'epoch_2.pth'), weights_only=True)
    assert checkpoint['meta']['epoch'] == 2
    assert not glob.glob(os.path.join(work_dir, '*.tmp-*'))

    show_dir = tmp_path / 'vis'
    assert run_test_tool([str(config), work_dir, '--work-dir', str(tmp_path / 'test'),
                      '--show-dir', str(show_dir)]) == 0
    tested = _log_text(str(tmp_path / 'test'))
    assert 'coco/bbox_mAP' in tested
    assert len(glob.glob(str(show_dir / '**' / '*.png'), recursive=True)) == NUM_VAL

    # the same checkpoint evaluated on backends: what they compute, beside their latency
    metrics = {}
    variants = {'onnxruntime': ('onnxruntime', 'fp32'), 'bf16': ('cpu', 'bf16'),
                'int8': ('openvino', 'int8')}
    for name, options in (('eager', []), ('onnxruntime', ['--backend', 'onnxruntime']),
                          ('bf16', ['--backend', 'cpu', '--precision', 'bf16']),
                          ('int8', ['--backend', 'openvino', '--precision', 'int8',
                                    '--calib', '3'])):
        out = tmp_path / f'{name}.json'
        assert run_test_tool([str(config), work_dir, '--work-dir', str(tmp_path / name),
                              '--metrics-out', str(out), *options]) == 0
        metrics[name] = json.loads(out.read_text())
        records = glob.glob(str(tmp_path / name / '*' / 'latency_test_end2end_*.json'))
        if name != 'eager':
            (record, ) = [json.loads(open(path).read()) for path in records]
            assert (record['backend'], record['precision']) == variants[name]
            assert record['deploy']
    assert metrics['onnxruntime']['coco/bbox_mAP'] == pytest.approx(
        metrics['eager']['coco/bbox_mAP'], abs=1e-3)
    assert 0 <= metrics['bf16']['coco/bbox_mAP'] <= 1
    assert 0 <= metrics['int8']['coco/bbox_mAP'] <= 1

    # the INT8 deployment artefact of the same checkpoint
    out = tmp_path / 'int8_model'
    assert quantize_main([str(config), work_dir, '--backend', 'openvino', '--calib', '3',
                          '--out', str(out)]) == 0
    info = json.loads((out / 'quantization.json').read_text())
    assert info['files'] == ['model_int8.bin', 'model_int8.xml']
    assert info['input_shape'] == [1, 3, 64, 64]
    assert info['kept_float'][0].endswith('stem.0/conv/Conv')
    assert info['max_relative_error'] < 0.3
    assert run_test_tool([str(config), work_dir, '--precision', 'bf16']) == 2


def _train_coco_config_in(directory, repo_root, monkeypatch, capsys) -> str:
    """tools/train.py on the COCO config, run from ``directory``; its one-line error."""
    monkeypatch.chdir(directory)
    config = os.path.join(repo_root, 'configs', 'detection', 'retinanet_lowformer_b1_coco.py')
    assert train_main([config]) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'Traceback' not in err
    return err


def test_missing_coco_is_a_clear_error(tmp_path, repo_root, monkeypatch, capsys):
    err = _train_coco_config_in(tmp_path, repo_root, monkeypatch, capsys)
    assert '[missing] data/coco/annotations/instances_train2017.json' in err
    assert '[missing] data/coco/val2017/' in err
    assert 'retinanet_lowformer_b1_shapes.py' in err


def test_missing_pretrained_checkpoint_is_a_clear_error(tmp_path, repo_root, monkeypatch,
                                                        capsys):
    for sub in ('annotations', 'train2017', 'val2017'):
        (tmp_path / 'data' / 'coco' / sub).mkdir(parents=True)
        (tmp_path / 'data' / 'coco' / sub / '000000000001.jpg').write_bytes(b'')
    for split in ('train2017', 'val2017'):
        (tmp_path / 'data' / 'coco' / 'annotations' / f'instances_{split}.json').write_text('{}')
    err = _train_coco_config_in(tmp_path, repo_root, monkeypatch, capsys)
    assert 'checkpoints/lowformer_b1_in1k.pth' in err
    assert 'tools/convert_checkpoint.py' in err


@pytest.mark.parametrize('config, shapes', [
    ('detection/mask-rcnn_efficientvit_m4_fpn_1x_coco.py',
     'detection/mask-rcnn_efficientvit_m4_shapes.py'),
    ('detection/retinanet_lowformer_b1_coco.py', 'detection/retinanet_lowformer_b1_shapes.py'),
    ('detection/retinanet_lowformer_b0_fpn_1x_coco.py',
     'detection/retinanet_lowformer_b1_shapes.py'),
    ('segmentation/fpn_efficientformer_l1_512x512_40k_ade20k.py',
     'segmentation/fpn_efficientformer_l1_shapes.py'),
    ('segmentation/fpn_efficientvit_m0_512x512_40k_ade20k.py',
     'segmentation/fpn_lowformer_b1_shapes.py'),
])
def test_missing_data_suggests_the_matching_shapes_config(config, shapes, repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    assert _shapes_alternative(os.path.join('configs', config)) == os.path.join('configs', shapes)
