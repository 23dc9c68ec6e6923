"""Retrieval metrics: Recall@K (hit rate), MAP@R, R-precision and mAP@K.

Definitions, per query with R = the number of gallery items that share its label (the query
itself not counted when the query set is the gallery):

- Recall@K: 1 if any of the K nearest gallery items shares the label (the hit rate of the
  CUB / SOP / In-Shop literature, mmpretrain's RetrievalRecall).
- R-precision: the fraction of the R nearest items that share the label.
- MAP@R: the mean over the R nearest of precision@i at the positions i that share the label,
  divided by R (Musgrave et al., "A Metric Learning Reality Check"; pytorch-metric-learning's
  AccuracyCalculator).
- mAP@K: the sum over the K nearest of precision@i at the positions that share the label,
  divided by R (mmpretrain's RetrievalAveragePrecision, 'IR' mode).

Queries whose label no gallery item shares (R = 0) are left out of every mean, as
pytorch-metric-learning does. Figures are fractions in [0, 1].
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mmlow.registry import METRICS
from .search import cosine_topk

RECALL_KS = (1, 2, 4, 8)


def label_histogram(labels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """(sorted distinct labels, how often each occurs)."""
    return torch.unique(labels, return_counts=True)


def count_relevant(query_labels: torch.Tensor, gallery_labels: Optional[torch.Tensor],
                   gallery_is_query: bool,
                   histogram: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
                   ) -> torch.Tensor:
    """R per query: gallery items with the query's label, itself excluded when it is there.
    ``histogram``: the gallery's :func:`label_histogram`, when already known."""
    values, counts = histogram if histogram is not None else label_histogram(gallery_labels)
    position = torch.searchsorted(values, query_labels).clamp(max=len(values) - 1)
    found = values[position] == query_labels
    relevant = torch.where(found, counts[position], torch.zeros_like(counts[position]))
    return relevant - int(gallery_is_query)


def search_depth(num_relevant: torch.Tensor, recall_ks: Sequence[int], map_topk: int) -> int:
    """How many neighbours a query needs for every metric to be exact (MAP@R needs R)."""
    return max(max(recall_ks), map_topk, int(num_relevant.max()) if len(num_relevant) else 1)


def per_query_metrics(neighbour_labels: torch.Tensor, query_labels: torch.Tensor,
                      num_relevant: torch.Tensor, recall_ks: Sequence[int] = RECALL_KS,
                      map_topk: int = 10) -> Dict[str, torch.Tensor]:
    """Each metric for each query (float64, shape (Q,)); queries with R = 0 are dropped.

    Args:
        neighbour_labels: (Q, K) labels of each query's nearest gallery items, best first;
            K must reach every query's R.
        query_labels: (Q,) labels.
        num_relevant: (Q,) R per query.
    """
    keep = num_relevant > 0
    neighbour_labels, query_labels = neighbour_labels[keep], query_labels[keep]
    num_relevant = num_relevant[keep].to(torch.float64)
    depth = neighbour_labels.shape[1]
    if len(num_relevant) and num_relevant.max() > depth:
        raise ValueError(f'MAP@R and R-precision need the R nearest neighbours of each query: '
                         f'got {depth}, but a query has R = {int(num_relevant.max())}')
    hits = neighbour_labels == query_labels[:, None]
    ranks = torch.arange(1, depth + 1, device=hits.device, dtype=torch.float64)
    within_r = ranks[None] <= num_relevant[:, None]
    precision_at_hits = torch.cumsum(hits, dim=1) / ranks * hits
    metrics = {f'Recall@{k}': hits[:, :k].any(dim=1).to(torch.float64) for k in recall_ks}
    metrics['R-Precision'] = (hits & within_r).sum(dim=1) / num_relevant
    metrics['MAP@R'] = (precision_at_hits * within_r).sum(dim=1) / num_relevant
    metrics[f'mAP@{map_topk}'] = precision_at_hits[:, :map_topk].sum(dim=1) / num_relevant
    return metrics


def summarise(per_query: Dict[str, torch.Tensor]) -> Dict[str, float]:
    count = len(next(iter(per_query.values())))
    if count == 0:
        raise ValueError('no query has a relevant item in the gallery (every query label is '
                         'missing from it): check that query and gallery share their labels')
    return {name: float(values.mean()) for name, values in per_query.items()}


def evaluate_embeddings(query: torch.Tensor, query_labels: torch.Tensor,
                        gallery: Optional[torch.Tensor] = None,
                        gallery_labels: Optional[torch.Tensor] = None,
                        recall_ks: Sequence[int] = RECALL_KS, map_topk: int = 10,
                        **search_kwargs) -> Dict[str, float]:
    """All metrics for query embeddings against a gallery (the queries themselves if None,
    each query then excluded from its own neighbours)."""
    gallery_is_query = gallery is None
    if gallery_is_query:
        gallery, gallery_labels = query, query_labels
    num_relevant = count_relevant(query_labels, gallery_labels, gallery_is_query)
    exclude = torch.arange(len(query)) if gallery_is_query else None
    _, indices = cosine_topk(query, gallery, search_depth(num_relevant, recall_ks, map_topk),
                             exclude=exclude, **search_kwargs)
    return summarise(per_query_metrics(gallery_labels[indices], query_labels, num_relevant,
                                       recall_ks, map_topk))


@METRICS.register_module()
class RetrievalMetric(BaseMetric):
    """Recall@K, MAP@R, R-precision and mAP@K of a retriever's predictions.

    Reads what :class:`mmlow.models.retrieval.EmbeddingRetriever` puts in each data sample:
    ``gt_label``, ``neighbour_labels`` (its nearest gallery items' labels), ``num_relevant``
    (R) and ``num_candidates`` (how many gallery items the query could be given). Each query's
    figures are kept, not its neighbours, so memory grows by a few numbers per query.

    A neighbour list shorter than the deepest k while the gallery holds more items would
    turn Recall@1000 silently into Recall@(list length): that is an error (the model's
    ``recall_ks`` / ``map_topk`` must reach the evaluator's).
    """
    default_prefix: Optional[str] = 'retrieval'

    def __init__(self, recall_ks: Sequence[int] = RECALL_KS, map_topk: int = 10,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        if any(k <= 0 for k in recall_ks) or map_topk <= 0:
            raise ValueError(f'recall_ks {recall_ks} and map_topk {map_topk} must be > 0')
        self.recall_ks = tuple(recall_ks)
        self.map_topk = map_topk
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'neighbour_labels' not in sample:
                raise KeyError('RetrievalMetric needs neighbour_labels and num_relevant in the '
                               "predictions: use mmlow's EmbeddingRetriever as the model")
            depth, deepest = sample['neighbour_labels'].numel(), max(*self.recall_ks,
                                                                     self.map_topk)
            if 'num_candidates' in sample and depth < min(deepest,
                                                          int(sample['num_candidates'])):
                raise ValueError(
                    f'the retriever returned {depth} neighbours of '
                    f'{int(sample["num_candidates"])} gallery items, but the metric needs '
                    f'{deepest} (recall_ks {self.recall_ks}, map_topk {self.map_topk}): give '
                    'the model the same recall_ks and map_topk as the evaluator')
            values = per_query_metrics(
                sample['neighbour_labels'].view(1, -1).cpu(),
                sample['gt_label'].view(-1)[:1].cpu(),
                torch.as_tensor(sample['num_relevant']).view(1), self.recall_ks,
                self.map_topk)
            if len(values['MAP@R']):
                self.results.append({name: float(v) for name, v in values.items()})

    def compute_metrics(self, results: list) -> Dict[str, float]:
        if not results:
            raise ValueError('no query had a relevant item in the gallery: check that query '
                             'and gallery share their labels')
        return {name: float(np.mean([r[name] for r in results])) for name in results[0]}
