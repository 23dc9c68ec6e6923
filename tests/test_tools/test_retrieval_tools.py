"""tools/test.py, tools/retrieve.py and tools/analysis/retrieval_baselines.py on a tiny
shapes retrieval run."""
import json
import os.path as osp
import shutil

import cv2
import pytest
from mmengine.logging import MMLogger
from mmengine.runner import Runner

from mmlow.runner import load_config
from mmlow.apis.retrieval import QUERY, RIGHT, UNKNOWN, WRONG, build_retriever
from tests.conftest import REPO_ROOT
from tests.tiny_configs import tiny_retrieval_cfg
from tools.analysis.retrieval_baselines import main as baselines_main
from tools.retrieve import main as retrieve_main
from tools.test import main as evaluate_main

CONFIG = 'configs/retrieval/lowformer_b1_shapes.py'


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('retrieval_tools')
    cfg = tiny_retrieval_cfg(osp.join(REPO_ROOT, CONFIG), str(root / 'data'),
                             str(root / 'work'))
    config = str(root / 'tiny_retrieval.py')
    cfg.dump(config)
    Runner.from_cfg(cfg).train()
    return config, str(root / 'work'), str(root / 'data')


def test_test_tool_prints_the_metrics(trained, capsys, tmp_path):
    config, work_dir, _ = trained
    out = tmp_path / 'metrics.json'
    assert evaluate_main([config, work_dir, '--work-dir', str(tmp_path / 't'),
                      '--metrics-out', str(out)]) == 0
    metrics = json.loads(out.read_text())
    printed = capsys.readouterr().out
    assert '| metric | value |' in printed
    for name in ('Recall@1', 'Recall@2', 'Recall@4', 'Recall@8', 'MAP@R', 'R-Precision',
                 'mAP@10'):
        assert 0 <= metrics[f'retrieval/{name}'] <= 1
        assert f'| retrieval/{name} | {metrics[f"retrieval/{name}"]:.4f} |' in printed


def test_retrieve_draws_queries_beside_their_neighbours(trained, tmp_path):
    config, work_dir, data = trained
    queries = [osp.join(data, 'images', f'{identity:04d}_00.png') for identity in (4, 5)]
    out, answer = tmp_path / 'grid.png', tmp_path / 'grid.json'
    assert retrieve_main([config, work_dir, '--query', *queries, '--topk', '3', '--out',
                          str(out), '--json', str(answer)]) == 0
    results = json.loads(answer.read_text())['results']
    for query, result in zip(queries, results):
        assert result['label'] == int(osp.basename(query)[:4])  # a gallery image: label known
        paths = [n['path'] for n in result['neighbours']]
        assert len(paths) == 3 and osp.abspath(query) not in paths
        scores = [n['score'] for n in result['neighbours']]
        assert scores == sorted(scores, reverse=True)
    grid = cv2.imread(str(out))
    assert grid is not None
    tile = 128 + 22 + 8  # tile, caption, padding
    assert grid.shape[:2] == (2 * tile, 4 * (128 + 8))
    for row, result in enumerate(results):  # each tile's frame says right / wrong
        expected = [QUERY] + [RIGHT if n['label'] == result['label'] else WRONG
                              for n in result['neighbours']]
        frames = [tuple(int(v) for v in grid[row * tile + 6, column * (128 + 8) + 6])
                  for column in range(4)]
        assert frames == expected

    # a folder of unlabelled gallery images: no right / wrong marks
    folder = tmp_path / 'gallery'
    folder.mkdir()
    for identity in (3, 4, 6):
        shutil.copy(osp.join(data, 'images', f'{identity:04d}_01.png'), folder)
    assert retrieve_main([config, work_dir, '--query', queries[0], '--gallery', str(folder),
                          '--topk', '5', '--out', str(out), '--json', str(answer)]) == 0
    (result, ) = json.loads(answer.read_text())['results']
    assert result['label'] is None and len(result['neighbours']) == 3
    assert all(n['label'] is None for n in result['neighbours'])
    grid = cv2.imread(str(out))
    assert [tuple(int(v) for v in grid[6, column * (128 + 8) + 6]) for column in range(4)] == \
        [QUERY, UNKNOWN, UNKNOWN, UNKNOWN]


def test_retrieve_reports_missing_query(trained, tmp_path, capsys):
    config, work_dir, _ = trained
    assert retrieve_main([config, work_dir, '--query', str(tmp_path / 'no.png'), '--out',
                          str(tmp_path / 'g.png')]) == 2
    assert 'no.png' in capsys.readouterr().err


def test_baselines_print_one_table(trained, capsys, tmp_path):
    config, work_dir, _ = trained
    out = tmp_path / 'baselines.json'
    assert baselines_main([config, work_dir, '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    rows = json.loads(out.read_text())
    assert list(rows) == ['raw pixels', 'untrained network', 'trained network']
    for method, values in rows.items():
        assert f'| {method} | {values["Recall@1"]:.4f} |' in printed
    # the untrained network is a different model from the trained one
    assert rows['untrained network'] != rows['trained network']


def test_export_onnx_writes_the_embedding_model(trained, tmp_path, capsys):
    from tools.export_onnx import main as export_main
    config, work_dir, _ = trained
    out = tmp_path / 'embedding.onnx'
    assert export_main([config, osp.join(work_dir, 'epoch_1.pth'), '--out', str(out),
                        '--shape', '32', '32']) == 0
    printed = capsys.readouterr().out
    assert 'EmbeddingRetriever' in printed and 'outputs output_0 [1, 128]' in printed
    assert out.stat().st_size > 0


@pytest.mark.parametrize('dataset, files', [
    ('cub', ['data/CUB_200_2011/images.txt', 'data/CUB_200_2011/image_class_labels.txt']),
    ('sop', ['data/Stanford_Online_Products/Ebay_train.txt',
             'data/Stanford_Online_Products/Ebay_test.txt']),
    ('inshop', ['data/inshop/Eval/list_eval_partition.txt', 'data/inshop/Img/img/']),
])
def test_train_names_the_missing_release_files(dataset, files, tmp_path, capsys, monkeypatch):
    from tools.train import main as train_main
    monkeypatch.chdir(REPO_ROOT)
    config = f'configs/retrieval/efficientformer_l1_{dataset}.py'
    assert train_main([config, '--work-dir', str(tmp_path)]) == 2
    err = capsys.readouterr().err
    for path in files:
        assert f'[missing] {path}' in err
    assert 'configs/retrieval/efficientformer_l1_shapes.py' in err


def test_untrained_retriever_is_built_quietly(capsys):
    """mmengine reports each parameter's initialisation at INFO when no log file is open:
    the baselines tool would print thousands of lines before its table."""
    MMLogger.get_instance('quiet_init', log_level='INFO')  # a console-only current logger
    cfg = load_config(osp.join(REPO_ROOT, 'configs/retrieval/lowformer_b1_shapes.py'))
    build_retriever(cfg, None)
    captured = capsys.readouterr()
    assert 'init_weights' not in captured.out + captured.err


def test_the_inference_api_finds_what_the_tool_finds(trained, tmp_path):
    """init_model + inference_retriever, as a user calls them, give the tool's answer."""
    from mmlow.apis import inference_retriever, init_model
    from mmlow.runner import latest_checkpoint
    config, work_dir, data = trained
    queries = [osp.join(data, 'images', f'{identity:04d}_00.png') for identity in (4, 5)]
    answer = tmp_path / 'tool.json'
    assert retrieve_main([config, work_dir, '--query', *queries, '--topk', '3', '--out',
                          str(tmp_path / 'grid.png'), '--json', str(answer)]) == 0
    model = init_model(config, latest_checkpoint(work_dir))
    assert inference_retriever(model, queries, topk=3) == json.loads(answer.read_text())
