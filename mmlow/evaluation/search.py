"""Nearest-neighbour search by cosine similarity that streams over the gallery.

A dense query x gallery similarity matrix is 40 GB for 100k x 100k images; here only one
``query_chunk x gallery_chunk`` block and the running top-k exist at a time, so memory stays
flat however large the gallery grows.

The result does not depend on the block sizes, bit for bit, ties included (SOP and In-Shop
hold duplicate images, whose similarities to a query are equal):

- ranking: higher similarity first; among equal similarities, the lower gallery index first.
  Each candidate is ranked by one int64 key (the similarity's float32 bits, made monotone,
  above the reversed gallery index), so no two candidates tie and every ``topk`` (per block
  and on merging) picks the same items in the same order whatever the blocks;
- similarities: a float32 matmul rounds differently with the block's shape (another kernel,
  another summation order), so two copies of one image could differ in the last bit and swap
  places. Each unit vector is rounded to multiples of 2**-26 instead, and the products are
  summed in float64 over those integers: every partial sum stays below 2**53 (Cauchy-Schwarz:
  at most |q| * |g| * 2**52, about 2**52), so the sum is exact in any order, then rounded once
  to float32: as close to the exact cosine as a float32 matmul (about 1e-7). The norms are
  taken once per call over the whole query / gallery set, never per block.
"""
from typing import Optional, Tuple

import torch

# unit vectors become integers of at most 2**FIXED_POINT_BITS (plus rounding): their dot
# products, partial sums included, stay exact in float64 for any dimension below ~2**50
FIXED_POINT_BITS = 26
_INDEX_RANGE = 1 << 32  # gallery indices live in the key's low 32 bits
_FLOAT_MAGNITUDE = 0x7FFFFFFF


def _fixed_point(vectors: torch.Tensor, norms: torch.Tensor) -> torch.Tensor:
    """Unit vectors (``vectors / norms``) times 2**bits, rounded: integer-valued float64."""
    scale = float(2**FIXED_POINT_BITS) / norms.double()
    # a copy even of float64 input: the caller's embeddings are not to be scaled in place
    return vectors.to(torch.float64, copy=True).mul_(scale.unsqueeze(1)).round_()


def _norms(vectors: torch.Tensor) -> torch.Tensor:
    # F.normalize's eps: a zero vector stays zero
    return torch.linalg.vector_norm(vectors.float(), dim=1).clamp_min(1e-12)


def _monotone(bits: torch.Tensor) -> torch.Tensor:
    """float32 bits (as int32) -> int32 that rise with the float. As signed ints, the bits
    rise with the value for positives and fall for negatives: flip a negative's magnitude
    bits. Its own inverse."""
    return bits ^ ((bits >> 31) & _FLOAT_MAGNITUDE)


def ranking_key(scores: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """int64 keys whose descending order is (higher float32 score, then lower index) first;
    distinct for distinct indices (0 <= index < 2**32)."""
    bits = (scores.float() + 0.0).view(torch.int32)  # + 0.0: -0.0 becomes 0.0
    return _monotone(bits).long().mul_(_INDEX_RANGE).add_(_INDEX_RANGE - 1 - indices)


def decode_key(keys: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """(float32 scores, int64 indices) of :func:`ranking_key`'s keys."""
    high = torch.div(keys, _INDEX_RANGE, rounding_mode='floor')
    indices = _INDEX_RANGE - 1 - (keys - high * _INDEX_RANGE)
    return _monotone(high.to(torch.int32)).view(torch.float32), indices


def cosine_topk(query: torch.Tensor, gallery: torch.Tensor, k: int,
                exclude: Optional[torch.Tensor] = None, query_chunk: int = 1024,
                gallery_chunk: int = 8192) -> Tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` gallery items most similar to each query, best first; equal similarities
    in gallery-index order (lower first). The same scores and indices, bit for bit, for any
    ``query_chunk`` / ``gallery_chunk``.

    Args:
        query: (Q, D) embeddings.
        gallery: (G, D) embeddings.
        k: neighbours per query; clipped to the number of gallery items a query can see.
        exclude: (Q,) gallery index that each query must not return (its own index when the
            query set is the gallery), or None.
        query_chunk / gallery_chunk: block sizes; they bound memory, not the result.

    Returns:
        (scores, indices), both (Q, k): float32 cosine similarities and gallery indices.
    """
    if query.dim() != 2 or gallery.dim() != 2 or query.shape[1] != gallery.shape[1]:
        raise ValueError(f'query {tuple(query.shape)} and gallery {tuple(gallery.shape)} must '
                         'be (N, D) embeddings of the same dimension')
    if exclude is not None and exclude.shape != (len(query), ):
        raise ValueError(f'exclude must hold one gallery index per query, got shape '
                         f'{tuple(exclude.shape)} for {len(query)} queries')
    if len(gallery) >= _INDEX_RANGE:
        raise ValueError(f'a gallery of {len(gallery)} items: at most 2**32 are supported')
    if query_chunk <= 0 or gallery_chunk <= 0:
        raise ValueError(f'query_chunk {query_chunk} and gallery_chunk {gallery_chunk} must '
                         'be > 0')
    k = min(k, len(gallery) - (exclude is not None))
    if k <= 0:
        raise ValueError(f'a gallery of {len(gallery)} items leaves no neighbour to return')
    device = query.device
    query_norms, gallery_norms = _norms(query), _norms(gallery)
    # gallery blocks outside: each is converted to fixed point once per call, and the
    # running top-k (the result's size) is merged block after block for all queries
    best = torch.empty(len(query), 0, dtype=torch.long, device=device)
    for g_start in range(0, len(gallery), gallery_chunk):
        g_stop = min(g_start + gallery_chunk, len(gallery))
        g_block = _fixed_point(gallery[g_start:g_stop], gallery_norms[g_start:g_stop]).T
        block_indices = torch.arange(g_start, g_stop, device=device)
        width = min(k, best.shape[1] + g_stop - g_start)
        merged_best = best if width == best.shape[1] else best.new_empty(len(query), width)
        for q_start in range(0, len(query), query_chunk):
            q_stop = min(q_start + query_chunk, len(query))
            q_block = _fixed_point(query[q_start:q_stop], query_norms[q_start:q_stop])
            # exact: integers whose partial sums stay below 2**53; then one rounding
            similarity = (q_block @ g_block).mul_(2.0**(-2 * FIXED_POINT_BITS)).float()
            if exclude is not None:
                own = exclude[q_start:q_stop, None].to(device)
                similarity.masked_fill_(own == block_indices, float('-inf'))
            block_best = ranking_key(similarity, block_indices).topk(
                min(k, g_stop - g_start), dim=1).values
            merged = torch.cat([best[q_start:q_stop], block_best], dim=1)
            merged_best[q_start:q_stop] = merged.topk(width, dim=1).values
        best = merged_best
    return decode_key(best)
