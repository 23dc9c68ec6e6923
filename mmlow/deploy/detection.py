"""What a single-stage detector's post-processing sees, counted and controlled.

mmdet's dense heads (RetinaNet, FCOS, ATSS, ...) post-process each image in
``_predict_by_feat_single``: per level they take the sigmoid of every (prior, class) logit,
keep those above ``test_cfg.score_thr``, sort them and keep the ``nms_pre`` best; then
``_bbox_post_process`` runs NMS on the survivors of all levels and keeps ``max_per_img``.
With random weights a RetinaNet's prior-probability bias keeps every score under the threshold,
so NMS sees nothing; a trained detector on a real image sees up to ``levels x nms_pre``.

- :class:`PostprocessCounter` wraps the head's ``_bbox_post_process`` on one head object and
  counts the (score, class) candidates that reach it (NMS's input) and the boxes it returns.
- :func:`set_candidates` sets the classification bias so that about N (score, class) pairs per
  image pass the score threshold.
- :func:`preselect_top_priors` is mmlow's faster front for ``_predict_by_feat_single``: a
  threshold and top-k over each level's raw logits pick the priors that can hold one of the
  ``nms_pre`` best scores over ``score_thr``, and mmdet's own code then runs on those priors
  only, with the same result.
"""
import math
from functools import partial
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

# the convolution that gives a dense head's classification logits, by mmdet's names
CLS_CONV_NAMES = ('retina_cls', 'conv_cls', 'atss_cls', 'gfl_cls', 'vfnet_cls')
ALL = 'all'


def dense_head(model: nn.Module) -> Optional[nn.Module]:
    """The single-stage detector's head whose post-processing mmdet's BaseDenseHead does."""
    head = getattr(model, 'bbox_head', None)
    if head is None or not hasattr(type(head), '_bbox_post_process') \
            or not hasattr(type(head), '_predict_by_feat_single'):
        return None
    return head


class PostprocessCounter:
    """Counts, per image, the candidates that reach NMS and the boxes that come out of it.

    ``attach(head)`` shadows the head object's ``_bbox_post_process`` with a counting wrapper
    (the object only: other copies of the head class are untouched), shared by every counter
    attached to it; ``detach`` takes this counter off, and the wrapper with the last one.
    ``take()`` returns and clears the counts of the images seen since the last call.
    """

    def __init__(self):
        self.candidates: List[int] = []
        self.boxes: List[int] = []
        self._heads: List[nn.Module] = []

    def attach(self, head: nn.Module) -> None:
        counters = vars(head).get('_postprocess_counters')
        if counters is None:
            counters = head._postprocess_counters = []
            original = type(head)._bbox_post_process.__get__(head)

            def counted(results, *args, **kwargs):
                out = original(results, *args, **kwargs)
                for counter in counters:
                    counter.candidates.append(len(results))
                    counter.boxes.append(len(out))
                return out

            head._bbox_post_process = counted
        counters.append(self)
        self._heads.append(head)

    def detach(self) -> None:
        for head in self._heads:
            counters = vars(head).get('_postprocess_counters', [])
            if self in counters:
                counters.remove(self)
            if not counters:
                vars(head).pop('_bbox_post_process', None)
                vars(head).pop('_postprocess_counters', None)
        self._heads = []

    def take(self) -> Tuple[List[int], List[int]]:
        counts = self.candidates, self.boxes
        self.candidates, self.boxes = [], []
        return counts


def candidates_argument(value: str) -> Union[int, str]:
    """--candidates on a command line: a count or 'all'."""
    if value == ALL:
        return value
    if not value.isdigit():
        raise ValueError(f"--candidates takes a count >= 0 or 'all', not {value!r}")
    return int(value)


def mean_counts(candidates: Sequence[int], boxes: Sequence[int]) -> dict:
    """The record's fields: mean candidates into NMS and boxes out per image (None if none
    were counted, e.g. for segmenters and two-stage detectors)."""
    if not candidates:
        return dict(nms_candidates=None, boxes_out=None)
    return dict(nms_candidates=sum(candidates) / len(candidates),
                boxes_out=sum(boxes) / len(boxes))


# --- the regime ---------------------------------------------------------------------------

def _classification_conv(head: nn.Module) -> nn.Conv2d:
    for name in CLS_CONV_NAMES:
        conv = getattr(head, name, None)
        if isinstance(conv, nn.Conv2d) and conv.bias is not None:
            return conv
    raise ValueError(f'{type(head).__name__} has none of the classification convolutions '
                     f'{", ".join(CLS_CONV_NAMES)} with a bias: --candidates cannot set it')


def _sigmoid_scores(head: nn.Module) -> bool:
    return bool(getattr(head, 'use_sigmoid_cls', False)) and \
        not getattr(head.loss_cls, 'custom_cls_channels', False)


def set_candidates(model: nn.Module, inputs: torch.Tensor, count: Union[int, str]) -> float:
    """Set the classification bias of ``model``'s dense head (one value for every class and
    prior) so that ``count`` (score, class) pairs per image of ``inputs`` (a preprocessed batch)
    pass ``test_cfg.score_thr``; ``'all'`` lets every pair pass (then NMS sees the test_cfg's
    maximum, ``nms_pre`` per level). Returns the bias. The count is exact on ``inputs``; on
    other images it varies (by about a third between random images on a tiny RetinaNet)."""
    head = dense_head(model)
    if head is None or not _sigmoid_scores(head):
        raise ValueError(f'--candidates needs a single-stage detector with sigmoid scores, not '
                         f'{type(model).__name__} ({type(head).__name__ if head else "no"} '
                         'bbox_head)')
    if count != ALL and (not isinstance(count, int) or count < 0):
        raise ValueError(f"candidates must be a count >= 0 or 'all', not {count!r}")
    conv = _classification_conv(head)
    threshold = head.test_cfg.get('score_thr', 0)
    if not 0 < threshold < 1:
        raise ValueError(f'test_cfg.score_thr is {threshold}: every (score, class) pair passes '
                         'it, so no bias sets their count; set a threshold in (0, 1)')
    threshold_logit = math.log(threshold / (1 - threshold))
    with torch.inference_mode():
        cls_scores, *_ = model(inputs, mode='tensor')
        bias = conv.bias.view(1, -1, 1, 1)
        unbiased = torch.cat([(level - bias).flatten() for level in cls_scores])
    total = unbiased.numel()
    wanted = total if count == ALL else min(count * inputs.shape[0], total)
    ordered = unbiased.sort(descending=True).values
    # midway between the last logit that passes and the first that does not
    if wanted == 0:
        cut = ordered[0] + 1.
    elif wanted == total:
        cut = ordered[-1] - 1.
    else:
        cut = (ordered[wanted - 1] + ordered[wanted]) / 2
    value = threshold_logit - float(cut)
    with torch.no_grad():
        conv.bias.fill_(value)
    return value


# --- the faster front of mmdet's _predict_by_feat_single --------------------------------

def _gather_priors(level: torch.Tensor, rows: torch.Tensor, num_priors: int) -> torch.Tensor:
    """Rows ``rows`` of mmdet's ``level.permute(1, 2, 0).reshape(-1, channels)`` for a
    (num_priors * channels, H, W) map, laid out again as (channels, 1, len(rows)) so that
    mmdet's reshape gives exactly those rows."""
    channels = level.shape[0] // num_priors
    per_prior = level.reshape(num_priors, channels, -1)  # (prior, channel, position)
    picked = per_prior[rows % num_priors, :, rows // num_priors]  # (rows, channels)
    return picked.t().reshape(channels, 1, -1)


def _preselected(head: nn.Module, original, cls_score_list, bbox_pred_list, score_factor_list,
                 mlvl_priors, img_meta, cfg=None, rescale=False, with_nms=True):
    cfg = head.test_cfg if cfg is None else cfg
    nms_pre = cfg.get('nms_pre', -1)
    threshold = cfg.get('score_thr', 0)
    # sigmoid is monotonic: mmdet keeps scores over score_thr, so logits over its logit (less
    # a margin for float rounding: a superset, mmdet's own code then applies the threshold)
    logit_threshold = (math.log(threshold / (1 - threshold)) - 1e-3
                       if 0 < threshold < 1 else None)
    kept = ([], [], [], [])
    for cls_score, bbox_pred, score_factor, priors in zip(
            cls_score_list, bbox_pred_list, score_factor_list, mlvl_priors):
        num_priors = priors.shape[0] // (cls_score.shape[1] * cls_score.shape[2])
        logits = cls_score.reshape(-1)
        if logit_threshold is not None:
            flat = (logits > logit_threshold).nonzero().squeeze(1)
            if 0 < nms_pre < len(flat):
                flat = flat[logits[flat].topk(nms_pre, sorted=False).indices]
        elif 0 < nms_pre < len(logits):
            flat = logits.topk(nms_pre, sorted=False).indices
        else:
            flat = None
        if flat is None:
            kept[0].append(cls_score)
            kept[1].append(bbox_pred)
            kept[2].append(score_factor)
            kept[3].append(priors)
            continue
        positions = cls_score[0].numel()
        rows = (flat % positions) * num_priors + flat // positions // (
            cls_score.shape[0] // num_priors)
        rows = rows.unique()  # ascending: mmdet sees the priors in its own order
        kept[0].append(_gather_priors(cls_score, rows, num_priors))
        kept[1].append(_gather_priors(bbox_pred, rows, num_priors))
        kept[2].append(None if score_factor is None
                       else _gather_priors(score_factor, rows, num_priors))
        kept[3].append(priors[rows])
    return original(cls_score_list=kept[0], bbox_pred_list=kept[1], score_factor_list=kept[2],
                    mlvl_priors=kept[3], img_meta=img_meta, cfg=cfg, rescale=rescale,
                    with_nms=with_nms)


def preselect_top_priors(head: nn.Module) -> bool:
    """Shadow ``head``'s ``_predict_by_feat_single`` (this object only) with a front that hands
    mmdet's own method just the priors holding a level's ``nms_pre`` largest logits, so that the
    sigmoid, threshold and sort run on those instead of on every prior x class. Applies to
    sigmoid-scored heads; returns whether it did."""
    if not _sigmoid_scores(head):
        return False
    original = type(head)._predict_by_feat_single.__get__(head)
    head._predict_by_feat_single = partial(_preselected, head, original)
    return True
