"""Nearest-neighbour search by cosine similarity that streams over the gallery.

A dense query x gallery similarity matrix is 40 GB for 100k x 100k images; here only one
``query_chunk x gallery_chunk`` block and the running top-k exist at a time, so memory stays
flat however large the gallery grows.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F


def cosine_topk(query: torch.Tensor, gallery: torch.Tensor, k: int,
                exclude: Optional[torch.Tensor] = None, query_chunk: int = 1024,
                gallery_chunk: int = 8192) -> Tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` gallery items most similar to each query, best first.

    Args:
        query: (Q, D) embeddings.
        gallery: (G, D) embeddings.
        k: neighbours per query; clipped to the number of gallery items a query can see.
        exclude: (Q,) gallery index that each query must not return (its own index when the
            query set is the gallery), or None.
        query_chunk / gallery_chunk: block sizes; they bound memory, not the result.

    Returns:
        (scores, indices), both (Q, k): cosine similarities and gallery indices.
    """
    if query.dim() != 2 or gallery.dim() != 2 or query.shape[1] != gallery.shape[1]:
        raise ValueError(f'query {tuple(query.shape)} and gallery {tuple(gallery.shape)} must '
                         'be (N, D) embeddings of the same dimension')
    if exclude is not None and exclude.shape != (len(query), ):
        raise ValueError(f'exclude must hold one gallery index per query, got shape '
                         f'{tuple(exclude.shape)} for {len(query)} queries')
    k = min(k, len(gallery) - (exclude is not None))
    if k <= 0:
        raise ValueError(f'a gallery of {len(gallery)} items leaves no neighbour to return')
    query = F.normalize(query.float(), dim=1)
    scores = query.new_empty(len(query), k)
    indices = torch.empty(len(query), k, dtype=torch.long, device=query.device)
    for q_start in range(0, len(query), query_chunk):
        q_block = query[q_start:q_start + query_chunk]
        best_scores = q_block.new_empty(len(q_block), 0)
        best_indices = indices.new_empty(len(q_block), 0)
        for g_start in range(0, len(gallery), gallery_chunk):
            g_block = F.normalize(gallery[g_start:g_start + gallery_chunk].float(), dim=1)
            similarity = q_block @ g_block.T
            block_indices = torch.arange(g_start, g_start + len(g_block), device=query.device)
            if exclude is not None:
                own = exclude[q_start:q_start + query_chunk, None].to(query.device)
                similarity.masked_fill_(own == block_indices, float('-inf'))
            block_scores, picked = similarity.topk(min(k, len(g_block)), dim=1)
            merged_scores = torch.cat([best_scores, block_scores], dim=1)
            merged_indices = torch.cat([best_indices, block_indices[picked]], dim=1)
            best_scores, order = merged_scores.topk(min(k, merged_scores.shape[1]), dim=1)
            best_indices = merged_indices.gather(1, order)
        scores[q_start:q_start + len(q_block)] = best_scores
        indices[q_start:q_start + len(q_block)] = best_indices
    return scores, indices
