"""A retriever's tensor forward (the embedding) on a backend, its search still in Python."""
import pytest
import torch

from mmlow.deploy import BackendModel
from mmlow.deploy.loading import BENCHMARK_GALLERY_SIZE, model_from_config
from mmlow.benchmark.synthetic import synthetic_batch


@pytest.mark.parametrize('backend', ['cpu', 'onnxruntime'])
def test_backend_retriever_finds_what_the_eager_one_finds(backend, repo_root):
    model, scope = model_from_config(f'{repo_root}/configs/retrieval/lowformer_b1_shapes.py')
    # timed retrievers search a random gallery instead of embedding their dataset
    assert model.prototype_vecs.shape == (BENCHMARK_GALLERY_SIZE, 128)
    model.set_gallery(torch.nn.functional.normalize(torch.randn(300, 128), dim=1))
    data = synthetic_batch(scope, (64, 64), 2)
    expected = model.test_step(data)
    backend_model = BackendModel(model, backend)
    found = backend_model.test_step(data)
    assert backend_model.retriever and backend_model.builds  # the embedding ran there
    for ours, theirs in zip(found, expected):
        assert ours.neighbour_indices.tolist() == theirs.neighbour_indices.tolist()
        torch.testing.assert_close(ours.neighbour_scores, theirs.neighbour_scores,
                                   rtol=0, atol=1e-4)


def test_swap_measurement_takes_retrieval_configs(repo_root):
    from mmlow.reports.swaps import measure_swaps
    configs = [f'{repo_root}/configs/retrieval/{name}_shapes.py'
               for name in ('lowformer_b1', 'efficientvit_m4')]
    results = {'lowformer_b1_shapes': {'retrieval/Recall@1': 0.9, 'retrieval/MAP@R': 0.5},
               'efficientvit_m4_shapes': {'retrieval/Recall@1': 0.7, 'retrieval/MAP@R': 0.3}}
    rows = measure_swaps(configs, ['cpu'], results, ['retrieval/Recall@1', 'retrieval/MAP@R'],
                         shape=(64, 64), iters=2, warmup=1)
    assert [row['metrics']['retrieval/Recall@1'] for row in rows] == [0.9, 0.7]
    for row in rows:
        assert row['fps']['cpu'] > 0 and row['backbone_ms'] > 0
        assert 0 < row['backbone_macs'] <= row['macs']


def test_int8_retriever_embeds_on_the_backend_close_to_eager(repo_root):
    from mmlow.deploy.quantize import Calibration
    model, scope = model_from_config(f'{repo_root}/configs/retrieval/lowformer_b1_shapes.py')
    model.set_gallery(torch.nn.functional.normalize(torch.randn(300, 128), dim=1))
    data = synthetic_batch(scope, (64, 64), 2)
    inputs = model.data_preprocessor(data, False)['inputs']
    calibration = Calibration(tuple(inputs[i:i + 1] for i in range(len(inputs))), 'test')
    expected = model.test_step(data)
    backend_model = BackendModel(model, 'openvino', 'int8', calibration=calibration)
    found = backend_model.test_step(data)
    (build, ) = backend_model.builds.values()
    assert backend_model.retriever and build.precision == 'int8' and build.max_error > 1e-3
    for ours, theirs in zip(found, expected):
        assert (ours.neighbour_scores - theirs.neighbour_scores).abs().max() < 0.1
