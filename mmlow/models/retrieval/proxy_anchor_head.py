"""Proxy-Anchor loss (Kim et al., CVPR 2020) as an mmpretrain-style head.

One learnable proxy per training class; each proxy is an anchor that pulls the batch's
embeddings of its class and pushes the others, weighted by how hard they are (a log-sum-exp
over the batch):

    loss = 1/|P+| sum_{p in P+} log(1 + sum_{x in X_p+} exp(-alpha (s(x, p) - delta)))
         + 1/|P|  sum_{p in P}  log(1 + sum_{x in X_p-} exp( alpha (s(x, p) + delta)))

with s the cosine similarity and P+ the proxies with a positive in the batch. The proxies
learn faster than the network in the paper's recipe: give ``head.proxies`` an lr multiplier.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmlow.registry import MODELS


def _log_one_plus_sum_exp(logits: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """log(1 + sum over kept rows of exp(logits)), per column, computed stably."""
    masked = logits.masked_fill(~keep, float('-inf'))
    zeros = logits.new_zeros(1, logits.shape[1])
    return torch.logsumexp(torch.cat([zeros, masked], dim=0), dim=0)


@MODELS.register_module()
class ProxyAnchorHead(BaseModule):
    """Proxy-Anchor metric-learning head.

    Args:
        num_classes: training classes (identities).
        in_channels: embedding size.
        margin: delta of the loss.
        alpha: scale of the loss (the paper's 32).
    """

    def __init__(self, num_classes: int, in_channels: int, margin: float = 0.1,
                 alpha: float = 32., loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.margin = margin
        self.alpha = alpha
        self.loss_weight = loss_weight
        self.proxies = nn.Parameter(torch.empty(num_classes, in_channels))
        nn.init.kaiming_normal_(self.proxies, mode='fan_out')

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Cosine similarity of each embedding to each proxy, (N, num_classes)."""
        return F.normalize(feats[-1], dim=1) @ F.normalize(self.proxies, dim=1).T

    def loss(self, feats: Sequence[torch.Tensor], data_samples: List) -> dict:
        labels = torch.cat([sample.gt_label for sample in data_samples]).to(feats[-1].device)
        return dict(loss=self.loss_weight * self.proxy_anchor_loss(self(feats), labels))

    def proxy_anchor_loss(self, cosine: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if labels.max() >= self.num_classes or labels.min() < 0:
            raise ValueError(f'labels must lie in [0, {self.num_classes}); got '
                             f'{int(labels.min())}..{int(labels.max())}')
        positive = F.one_hot(labels, self.num_classes).bool()
        with_positive = positive.any(dim=0)
        pull = _log_one_plus_sum_exp(-self.alpha * (cosine - self.margin), positive)
        push = _log_one_plus_sum_exp(self.alpha * (cosine + self.margin), ~positive)
        return pull[with_positive].sum() / with_positive.sum() + push.sum() / self.num_classes
