"""Retrieval metrics against pytorch-metric-learning, mmpretrain and hand-computed values."""
import numpy as np
import pytest
import torch
from mmpretrain.evaluation import RetrievalAveragePrecision, RetrievalRecall
from pytorch_metric_learning.distances import CosineSimilarity
from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator
from pytorch_metric_learning.utils.inference import CustomKNN

from mmlow.evaluation import (RetrievalMetric, cosine_topk, count_relevant,
                              evaluate_embeddings, per_query_metrics, search_depth)
from mmlow.evaluation.retrieval import summarise
from mmlow.evaluation.search import decode_key, ranking_key


@pytest.fixture(autouse=True)
def numpy_in1d(monkeypatch):
    """mmpretrain's retrieval metrics (the reference here) still call np.in1d, which numpy
    2.4 removed; mmlow's own metrics never do."""
    if not hasattr(np, 'in1d'):
        monkeypatch.setattr(np, 'in1d', lambda ar1, ar2, assume_unique=False, invert=False:
                            np.isin(np.asarray(ar1).ravel(), ar2, assume_unique=assume_unique,
                                    invert=invert), raising=False)


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


# --- ties (duplicate images, as in SOP and In-Shop) ----------------------------------------

CHUNKS = [(1, 1), (3, 7), (64, 5), (10**6, 10**6)]


def duplicated_set(seed, num=120, distinct=12, dim=16, num_labels=None):
    """``num`` embeddings that are exact copies of ``distinct`` vectors (which copy: ``which``);
    labels drawn independently of the copies, so that the order of tied items decides hits."""
    generator = torch.Generator().manual_seed(seed)
    vectors = torch.randn(distinct, dim, generator=generator)
    which = torch.randint(distinct, (num, ), generator=generator)
    labels = torch.randint(num_labels or distinct, (num, ), generator=generator)
    return vectors, which, labels


def reference_topk(query, vectors, which, k, exclude_self=False):
    """Dense float64 cosine similarities, equal for copies by construction, ranked by a stable
    sort on -score: among equal scores, the lower gallery index first."""
    unit = torch.nn.functional.normalize(vectors.double(), dim=1)
    scores = (torch.nn.functional.normalize(query.double(), dim=1) @ unit.T)[:, which]
    if exclude_self:
        scores.fill_diagonal_(float('-inf'))
    order = torch.sort(-scores, dim=1, stable=True).indices[:, :k]
    return scores.gather(1, order), order


@pytest.mark.parametrize('exclude_self', [False, True])
def test_ties_rank_lower_gallery_index_first_for_any_chunks(exclude_self):
    vectors, which, _ = duplicated_set(0)
    gallery = vectors[which]
    query = gallery if exclude_self else vectors[torch.randint(
        12, (37, ), generator=torch.Generator().manual_seed(1))]
    exclude = torch.arange(len(query)) if exclude_self else None
    k = 25  # about 10 copies of each vector: tie groups straddle the k-th place
    expected_scores, expected = reference_topk(query, vectors, which, k, exclude_self)
    # the distinct similarities are far apart (the float32 rounding cannot swap them), and
    # ties do straddle the boundary: the k-th item's copies continue past it
    distinct = torch.nn.functional.normalize(vectors) @ torch.nn.functional.normalize(vectors).T
    gaps = distinct.sort(dim=1).values.diff(dim=1)
    assert gaps[gaps > 0].min() > 1e-5
    straddles = [(which == which[expected[q, -1]]).sum() > (which[expected[q]] ==
                 which[expected[q, -1]]).sum() + int(exclude_self) for q in range(len(query))]
    assert sum(straddles) > len(query) // 2
    results = [cosine_topk(query, gallery, k, exclude=exclude, query_chunk=q,
                           gallery_chunk=g) for q, g in CHUNKS]
    for scores, indices in results:
        assert torch.equal(indices, expected)
        assert torch.equal(scores, results[0][0])  # bit for bit, whatever the blocks
        torch.testing.assert_close(scores.double(), expected_scores, rtol=0, atol=1e-6)
        if exclude_self:
            assert not (indices == exclude[:, None]).any()


def test_recall_is_chunk_invariant_with_ties():
    # copies of one vector carry different labels: which copy comes first decides Recall@1
    vectors, which, labels = duplicated_set(2, num=150, distinct=15, num_labels=8)
    embeddings = vectors[which]
    _, expected = reference_topk(embeddings, vectors, which, 149, exclude_self=True)
    num_relevant = count_relevant(labels, labels, gallery_is_query=True)
    expected_figures = summarise(per_query_metrics(labels[expected], labels, num_relevant))
    figures = [evaluate_embeddings(embeddings, labels, query_chunk=q, gallery_chunk=g)
               for q, g in CHUNKS]
    for figure in figures:
        assert figure == expected_figures
    # RetrievalMetric on the neighbours of the blockwise search, as the retriever gives them
    depth = search_depth(num_relevant, (1, 2, 4, 8), 10)
    for q, g in CHUNKS:
        _, indices = cosine_topk(embeddings, embeddings, depth, exclude=torch.arange(150),
                                 query_chunk=q, gallery_chunk=g)
        metric = RetrievalMetric()
        metric.process({}, [dict(gt_label=labels[i:i + 1], neighbour_labels=labels[indices[i]],
                                 num_relevant=num_relevant[i]) for i in range(150)])
        assert metric.evaluate(150) == {f'retrieval/{name}': value
                                        for name, value in expected_figures.items()}


@pytest.mark.parametrize('dtype', [torch.float64, torch.float16])
def test_search_leaves_its_inputs_alone_whatever_their_dtype(dtype):
    query, gallery = random_set(10, 30)[0].to(dtype), random_set(11, 50)[0].to(dtype)
    copies = query.clone(), gallery.clone()
    scores, indices = cosine_topk(query, gallery, 5, query_chunk=7, gallery_chunk=9)
    assert torch.equal(query, copies[0]) and torch.equal(gallery, copies[1])
    _, expected = cosine_topk(query.float(), gallery.float(), 5)
    assert scores.dtype == torch.float32 and torch.equal(indices, expected)


def test_ranking_key_orders_by_score_then_index():
    scores = torch.tensor([0.5, -0.0, 0.0, -1e-30, 1e-30, -1.0, float('-inf'), 0.5, 1.0])
    indices = torch.tensor([7, 1, 4, 2, 9, 0, 3, 2**32 - 1, 5])
    keys = ranking_key(scores, indices)
    order = keys.argsort(descending=True)
    assert indices[order].tolist() == [5, 7, 2**32 - 1, 9, 1, 4, 2, 0, 3]  # -0.0 == 0.0
    decoded_scores, decoded_indices = decode_key(keys)
    assert torch.equal(decoded_indices, indices)
    assert torch.equal(decoded_scores, scores + 0.0)


# --- the literature's deepest ks (SOP: Recall@1000) ----------------------------------------

def test_recall_at_1000_streams_and_matches_mmpretrain():
    query, query_labels = random_set(8, 40, num_labels=30)
    gallery, gallery_labels = random_set(9, 1500, num_labels=30)
    ks = (1, 10, 100, 1000)
    num_relevant = count_relevant(query_labels, gallery_labels, gallery_is_query=False)
    assert search_depth(num_relevant, ks, 10) == 1000
    # blocks smaller than k: the running top-k carries 1000 items across 6 gallery blocks
    ours = evaluate_embeddings(query, query_labels, gallery, gallery_labels, recall_ks=ks,
                               query_chunk=16, gallery_chunk=256)
    scores = torch.nn.functional.normalize(query) @ torch.nn.functional.normalize(gallery).T
    relevant = (query_labels[:, None] == gallery_labels[None]).int()
    recalls = RetrievalRecall.calculate(scores, relevant, topk=ks)
    for k, recall in zip(ks, recalls):
        assert abs(ours[f'Recall@{k}'] - float(recall) / 100) <= 1e-6
    assert ours['Recall@1'] < ours['Recall@10'] < ours['Recall@100'] < ours['Recall@1000']


def test_metric_refuses_a_search_shallower_than_its_ks():
    """A model searching 8 deep under an evaluator asking Recall@1000 would report
    Recall@8 as Recall@1000."""
    sample = dict(gt_label=torch.tensor([0]), neighbour_labels=torch.tensor([1] * 7 + [0]),
                  num_relevant=torch.tensor(3))
    metric = RetrievalMetric(recall_ks=(1, 10, 100, 1000))
    with pytest.raises(ValueError, match='same recall_ks'):
        metric.process({}, [dict(sample, num_candidates=5000)])
    # a gallery of 9 items (8 candidates) cannot give more: Recall@1000 is then Recall@8
    metric.process({}, [dict(sample, num_candidates=8)])
    assert metric.evaluate(1)['retrieval/Recall@1000'] == 1.0
