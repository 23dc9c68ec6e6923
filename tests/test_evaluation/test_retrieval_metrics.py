"""Retrieval metrics against pytorch-metric-learning, mmpretrain and hand-computed values."""
import pytest
import torch
from mmpretrain.evaluation import RetrievalAveragePrecision, RetrievalRecall
from pytorch_metric_learning.distances import CosineSimilarity
from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator
from pytorch_metric_learning.utils.inference import CustomKNN

from mmlow.evaluation import (RetrievalMetric, cosine_topk, count_relevant,
                              evaluate_embeddings, per_query_metrics, search_depth)


def random_set(seed, num, dim=16, num_labels=12):
    generator = torch.Generator().manual_seed(seed)
    embeddings = torch.randn(num, dim, generator=generator)
    labels = torch.randint(num_labels, (num, ), generator=generator)
    return embeddings, labels


def reference_metrics(query, query_labels, gallery=None, gallery_labels=None, map_topk=10):
    """pytorch-metric-learning's figures (cosine k-NN instead of faiss)."""
    knn = CustomKNN(CosineSimilarity())
    exact = AccuracyCalculator(
        include=('precision_at_1', 'r_precision', 'mean_average_precision_at_r'),
        k='max_bin_count', knn_func=knn, device=torch.device('cpu'))
    at_k = AccuracyCalculator(include=('mean_average_precision', ), k=map_topk, knn_func=knn,
                              device=torch.device('cpu'))
    figures = exact.get_accuracy(query, query_labels, gallery, gallery_labels)
    figures.update(at_k.get_accuracy(query, query_labels, gallery, gallery_labels))
    return figures


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('gallery_is_query', [True, False])
def test_metrics_match_pytorch_metric_learning(seed, gallery_is_query):
    query, query_labels = random_set(seed, 150)
    # label 99: a query whose label appears once (no other relevant item) must be skipped
    query_labels[0] = 99
    if gallery_is_query:
        gallery, gallery_labels = None, None
    else:
        gallery, gallery_labels = random_set(seed + 100, 230)
    ours = evaluate_embeddings(query, query_labels, gallery, gallery_labels, map_topk=10,
                               query_chunk=37, gallery_chunk=41)
    theirs = reference_metrics(query, query_labels, gallery, gallery_labels, map_topk=10)
    assert abs(ours['Recall@1'] - theirs['precision_at_1']) <= 1e-6
    assert abs(ours['R-Precision'] - theirs['r_precision']) <= 1e-6
    assert abs(ours['MAP@R'] - theirs['mean_average_precision_at_r']) <= 1e-6
    assert abs(ours['mAP@10'] - theirs['mean_average_precision']) <= 1e-6


@pytest.mark.parametrize('seed', [3, 4])
def test_recall_and_map_at_k_match_mmpretrain(seed):
    """Recall@K is mmpretrain's hit rate, mAP@K its RetrievalAveragePrecision ('IR')."""
    query, query_labels = random_set(seed, 60, num_labels=8)
    gallery, gallery_labels = random_set(seed + 50, 90, num_labels=8)
    ours = evaluate_embeddings(query, query_labels, gallery, gallery_labels, map_topk=5)
    scores = torch.nn.functional.normalize(query) @ torch.nn.functional.normalize(gallery).T
    relevant = (query_labels[:, None] == gallery_labels[None]).int()
    assert relevant.sum(dim=1).min() > 0  # mmpretrain averages over every query
    recalls = RetrievalRecall.calculate(scores, relevant, topk=(1, 2, 4, 8))
    for k, recall in zip((1, 2, 4, 8), recalls):
        assert abs(ours[f'Recall@{k}'] - float(recall) / 100) <= 1e-6
    map_at_5 = RetrievalAveragePrecision.calculate(scores, relevant, topk=5)
    assert abs(ours['mAP@5'] - map_at_5 / 100) <= 1e-6


def test_hand_computed_case():
    # query label 0, gallery labels ranked: 1 0 1 0 0 (R = 3)
    per_query = per_query_metrics(torch.tensor([[1, 0, 1, 0, 0]]), torch.tensor([0]),
                                  torch.tensor([3]), recall_ks=(1, 2, 4), map_topk=4)
    assert per_query['Recall@1'].tolist() == [0.0]
    assert per_query['Recall@2'].tolist() == [1.0]
    assert per_query['Recall@4'].tolist() == [1.0]
    assert per_query['R-Precision'].tolist() == pytest.approx([1 / 3])  # one hit in the top 3
    assert per_query['MAP@R'].tolist() == pytest.approx([(1 / 2) / 3])
    assert per_query['mAP@4'].tolist() == pytest.approx([(1 / 2 + 2 / 4) / 3])


def test_self_exclusion_and_lone_queries_by_hand():
    # 1-D embeddings on a line: a=0.0 (label 0), b=0.1 (label 0), c=1.0 (label 1, lone)
    embeddings = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
    labels = torch.tensor([0, 0, 1])
    assert count_relevant(labels, labels, gallery_is_query=True).tolist() == [1, 1, 0]
    figures = evaluate_embeddings(embeddings, labels, recall_ks=(1, ), map_topk=1)
    # without self-exclusion every query would find itself; c is skipped (no other label 1)
    assert figures == {'Recall@1': 1.0, 'R-Precision': 1.0, 'MAP@R': 1.0, 'mAP@1': 1.0}
    swapped = evaluate_embeddings(embeddings, torch.tensor([0, 1, 0]), recall_ks=(1, ),
                                  map_topk=1)
    # a's nearest other item is b (label 1), its relevant c is ranked second: MAP@R = 0
    assert swapped['Recall@1'] == 0.0 and swapped['MAP@R'] == 0.0


def test_too_shallow_neighbour_list_is_refused():
    with pytest.raises(ValueError, match='R nearest'):
        per_query_metrics(torch.tensor([[0, 0]]), torch.tensor([0]), torch.tensor([3]))


def test_no_relevant_query_is_an_error():
    with pytest.raises(ValueError, match='no query'):
        evaluate_embeddings(torch.randn(3, 4), torch.tensor([0, 1, 2]))


@pytest.mark.parametrize('exclude_self', [False, True])
@pytest.mark.parametrize('chunks', [(7, 5), (1000, 3), (1, 1000)])
def test_chunked_search_equals_dense(exclude_self, chunks):
    query, _ = random_set(5, 53)
    gallery = query if exclude_self else random_set(6, 71)[0]
    exclude = torch.arange(len(query)) if exclude_self else None
    scores, indices = cosine_topk(query, gallery, 9, exclude=exclude, query_chunk=chunks[0],
                                  gallery_chunk=chunks[1])
    dense = torch.nn.functional.normalize(query) @ torch.nn.functional.normalize(gallery).T
    if exclude_self:
        dense.fill_diagonal_(float('-inf'))
    dense_scores, dense_indices = dense.topk(9, dim=1)
    assert torch.equal(indices, dense_indices)
    torch.testing.assert_close(scores, dense_scores, rtol=0, atol=1e-6)


def test_chunked_search_memory_is_bounded_by_the_blocks(monkeypatch):
    """No similarity block larger than query_chunk x gallery_chunk is ever formed."""
    shapes = []
    matmul = torch.Tensor.__matmul__

    def recording_matmul(a, b):
        out = matmul(a, b)
        shapes.append(tuple(out.shape))
        return out

    monkeypatch.setattr(torch.Tensor, '__matmul__', recording_matmul)
    cosine_topk(torch.randn(100, 8), torch.randn(1000, 8), 5, query_chunk=16,
                gallery_chunk=64)
    assert shapes and max(a * b for a, b in shapes) <= 16 * 64


def test_metric_matches_functional_evaluation():
    query, labels = random_set(7, 80)
    num_relevant = count_relevant(labels, labels, gallery_is_query=True)
    _, indices = cosine_topk(query, query, search_depth(num_relevant, (1, 2, 4, 8), 10),
                             exclude=torch.arange(80))
    metric = RetrievalMetric()
    samples = [dict(gt_label=labels[i:i + 1], neighbour_labels=labels[indices[i]],
                    num_relevant=num_relevant[i]) for i in range(80)]
    metric.process({}, samples[:50])
    metric.process({}, samples[50:])
    figures = metric.evaluate(80)
    expected = evaluate_embeddings(query, labels)
    assert figures.keys() == {f'retrieval/{name}' for name in expected}
    for name, value in expected.items():
        assert abs(figures[f'retrieval/{name}'] - value) <= 1e-9
