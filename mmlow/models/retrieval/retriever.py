"""Image-to-image retriever: mmpretrain's ImageToImageRetriever with a gallery that is
never stale and a search whose memory stays flat.

    backbone -> GlobalAveragePooling -> EmbeddingNeck (unit-length embedding) -> metric head

What it changes from ImageToImageRetriever:
- the gallery (``prototype``, a dataloader config) is embedded again before any evaluation
  that follows a training step or a switch to train mode, so its embeddings always come from
  the weights being evaluated; gallery labels are kept beside the embeddings;
- ``predict`` searches the gallery in blocks (:func:`mmlow.evaluation.cosine_topk`) for as
  many neighbours as the metrics need (MAP@R needs R of them) and returns them, not a dense
  score row per query;
- with ``gallery_is_query=True`` (CUB, SOP: the test set is searched against itself) each
  query's own gallery entry (its ``sample_idx``) is excluded from its neighbours, and its
  embedding is taken from the gallery just computed (same image, same test pipeline, same
  weights) rather than computed a second time.
"""
from typing import List, Optional, Sequence, Union

import mmengine.dist as dist
import torch
import torch.nn as nn
from mmengine.runner import Runner
from mmpretrain.models import ImageToImageRetriever
from mmpretrain.structures import DataSample
from mmpretrain.utils import track_on_main_process
from torch.utils.data import DataLoader

from mmlow.evaluation import (RECALL_KS, cosine_topk, count_relevant, label_histogram,
                              search_depth)
from mmlow.registry import MODELS


@MODELS.register_module()
class EmbeddingRetriever(ImageToImageRetriever):
    """Args (beyond ImageToImageRetriever's):
        gallery_is_query: the evaluation's queries are the gallery itself.
        recall_ks / map_topk: the metrics the search must serve (see RetrievalMetric).
        search_cfg: ``query_chunk`` / ``gallery_chunk`` of the blockwise search.
    """

    def __init__(self, image_encoder: Union[dict, List[dict]],
                 prototype: Union[DataLoader, dict], head: Optional[dict] = None,
                 gallery_is_query: bool = False, recall_ks: Sequence[int] = RECALL_KS,
                 map_topk: int = 10, search_cfg: Optional[dict] = None, **kwargs):
        if not isinstance(prototype, (dict, DataLoader)):
            raise TypeError('EmbeddingRetriever needs the gallery as a dataloader (config): '
                            'its labels are read with the images, and the embeddings are '
                            'recomputed whenever the weights change')
        super().__init__(image_encoder=image_encoder, prototype=prototype, head=head, **kwargs)
        self.gallery_is_query = gallery_is_query
        self.recall_ks = tuple(recall_ks)
        self.map_topk = map_topk
        self.search_cfg = dict(search_cfg or {})
        self._gallery_loader = None
        self._gallery_fixed = False
        self.gallery_refreshes = 0  # how often the gallery was embedded (tests, logs)

    @property
    def backbone(self) -> nn.Module:
        """The image encoder's first module, as other OpenMMLab models name it (latency
        tools time it, exports can take it alone)."""
        return self.image_encoder[0]

    # --- the gallery is stale as soon as the weights may change --------------------------

    def train(self, mode: bool = True):
        if mode and not self._gallery_fixed:
            self.prototype_inited = False
        return super().train(mode)

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> dict:
        if not self._gallery_fixed:
            self.prototype_inited = False
        return super().loss(inputs, data_samples)

    def set_gallery(self, embeddings: torch.Tensor,
                    labels: Optional[torch.Tensor] = None) -> None:
        """Search these embeddings from now on instead of embedding the gallery dataset
        (deployment with a precomputed index, latency measurements). Without labels (-1:
        unknown) the search returns max(recall_ks, map_topk) neighbours and no metrics can be
        computed; the queries are never the gallery."""
        device = next(self.parameters()).device
        self._set_gallery_buffers(embeddings.to(device),
                                  None if labels is None else labels.to(device))
        self.gallery_is_query = False
        self._gallery_fixed = True

    def _set_gallery_buffers(self, vectors: torch.Tensor,
                             labels: Optional[torch.Tensor]) -> None:
        self._gallery_histogram = None if labels is None else label_histogram(labels)
        if labels is None:
            labels = torch.full((len(vectors), ), -1, dtype=torch.long, device=vectors.device)
        self.register_buffer('prototype_vecs', vectors, persistent=False)
        self.register_buffer('prototype_labels', labels, persistent=False)
        self.prototype_inited = True

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, D) unit-length embeddings of preprocessed images."""
        feats = self.extract_feat(inputs)
        return feats[-1] if isinstance(feats, tuple) else feats

    @torch.no_grad()
    def prepare_prototype(self) -> None:
        """Embed the gallery with the current weights; keep its labels beside."""
        if self._gallery_loader is None:
            self._gallery_loader = (self.prototype if isinstance(self.prototype, DataLoader)
                                    else Runner.build_dataloader(self.prototype))
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        num = len(self._gallery_loader.dataset)
        vectors, labels = None, torch.zeros(num, dtype=torch.long, device=device)
        embedded = torch.zeros(num, device=device)
        for batch in track_on_main_process(self._gallery_loader, 'Embedding the gallery'):
            data = self.data_preprocessor(batch, False)
            embeddings = self.embed(data['inputs'])
            if vectors is None:
                vectors = embeddings.new_zeros(num, embeddings.shape[1])
            index = torch.tensor([s.sample_idx for s in data['data_samples']], device=device)
            vectors[index] = embeddings
            embedded[index] = 1
            labels[index] = torch.cat([s.gt_label.view(-1)[:1] for s in data['data_samples']]
                                      ).to(device)
        if vectors is None:
            raise ValueError('the gallery dataloader yielded no images')
        # each process embedded its share (the others' rows are zero); a padding sampler
        # gives the last images to two processes: average the copies, never add labels
        dist.all_reduce(vectors)
        dist.all_reduce(embedded)
        dist.all_reduce(labels, op='max')
        vectors /= embedded.clamp(min=1).unsqueeze(1)
        self._set_gallery_buffers(vectors, labels)
        self.gallery_refreshes += 1
        self.train(was_training)
        # train(True) marks the gallery stale; restoring the mode must not
        self.prototype_inited = True

    def search(self, embeddings: torch.Tensor, query_indices: Optional[torch.Tensor] = None):
        """Nearest gallery items of each embedding: (scores, indices), depth as the metrics
        need. ``query_indices``: the queries' own gallery indices, excluded."""
        return cosine_topk(embeddings, self.prototype_vecs, self.search_depth(),
                           exclude=query_indices, **self.search_cfg)

    def search_depth(self) -> int:
        if self._gallery_histogram is None:  # unlabelled gallery: no R to reach
            return max(max(self.recall_ks), self.map_topk)
        _, counts = self._gallery_histogram
        return search_depth(counts - int(self.gallery_is_query), self.recall_ks, self.map_topk)

    def predict(self, inputs: torch.Tensor, data_samples: Optional[List[DataSample]] = None,
                **kwargs) -> List[DataSample]:
        if not self.prototype_inited:
            self.prepare_prototype()
        exclude = None
        if self.gallery_is_query:
            if data_samples is None:
                raise ValueError('gallery_is_query=True: the queries must come with their '
                                 'data samples (sample_idx = their gallery index)')
            exclude = torch.tensor([s.sample_idx for s in data_samples],
                                   device=self.prototype_vecs.device)
            embeddings = self.prototype_vecs[exclude]
        else:
            embeddings = self.embed(inputs)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(len(embeddings))]
        scores, indices = self.search(embeddings, exclude)
        labels = self.prototype_labels[indices]
        # the gallery items a query can be given: the metric checks the search went deep enough
        num_candidates = len(self.prototype_vecs) - int(exclude is not None)
        num_relevant = None
        if self._gallery_histogram is not None and all('gt_label' in sample
                                                       for sample in data_samples):
            query_labels = torch.cat([s.gt_label.view(-1)[:1] for s in data_samples])
            num_relevant = count_relevant(query_labels.to(labels.device), None,
                                          self.gallery_is_query, self._gallery_histogram)
        for i, sample in enumerate(data_samples):
            sample.set_field(scores[i], 'neighbour_scores')
            sample.set_field(indices[i], 'neighbour_indices')
            sample.set_field(labels[i], 'neighbour_labels')
            sample.set_field(num_candidates, 'num_candidates', field_type='metainfo')
            if num_relevant is not None:
                sample.set_field(num_relevant[i], 'num_relevant')
        return data_samples
