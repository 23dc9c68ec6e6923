"""One-stream single-object tracker (LowFormer-Track, after SMAT) as an mmengine model.

Template and search crops share a backbone truncated after ``last_stage``. All stages before
it run on each crop alone (so the template's can be computed once and cached); the last kept
stage runs on one map that joins the search features with the template features (tiled to the
search width), so its attention mixes search and template tokens, as the reference's merged
image does. The neck correlates the two, the centre head predicts a score map, offsets and
sizes.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModel

from mmlow.registry import MODELS
from .heads import decode_boxes
from .losses import (cxcywh_to_xyxy, gaussian_centre_map, gaussian_focal_loss, giou_loss,
                     l1_loss)

# ImageNet statistics in RGB order; crops come in as BGR uint8 (OpenCV's order)
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


def join_search_template(search: torch.Tensor, template: torch.Tensor) -> torch.Tensor:
    """Stack the template map (tiled across the search width) below the search map."""
    repeats = -(-search.shape[-1] // template.shape[-1])
    tiled = template.repeat(1, 1, 1, repeats)[..., :search.shape[-1]]
    return torch.cat([search, tiled], dim=2)


@MODELS.register_module()
class OneStreamTracker(BaseModel):
    """Args:
        backbone: config of any registered mmlow backbone (``stem`` + ``stages``).
        last_stage: index of the last stage kept (the rest is dropped); it runs on the joint
            search + template map.
        neck / head: configs of the neck (``PixelwiseCorrelationNeck``) and head
            (``CenterTrackingHead``); their channel counts are filled in here.
        head_channels: width the neck projects to and the head works at.
        template_size / search_size: crop sizes in pixels; template_factor / search_factor:
            crop side as a multiple of ``sqrt(w * h)`` of the target box.
        loss_weights: focal, giou and l1 weights.
    """

    def __init__(self,
                 backbone: dict,
                 last_stage: int,
                 head_channels: int = 128,
                 neck: dict = dict(type='PixelwiseCorrelationNeck'),
                 head: dict = dict(type='CenterTrackingHead'),
                 template_size: int = 112,
                 search_size: int = 224,
                 template_factor: float = 2.0,
                 search_factor: float = 4.0,
                 loss_weights: dict = dict(focal=1.0, giou=2.0, l1=5.0),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.backbone.keep_stages(last_stage)
        self.last_stage = last_stage
        self.template_size, self.search_size = int(template_size), int(search_size)
        self.template_factor, self.search_factor = float(template_factor), float(search_factor)
        self.loss_weights = dict(loss_weights)
        self.register_buffer('mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), False)
        self.register_buffer('std', torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), False)

        channels, template_grid, self.search_grid = self._probe_shapes()
        self.neck = MODELS.build(dict(neck, in_channels=channels,
                                      num_template_tokens=template_grid[0] * template_grid[1],
                                      out_channels=head_channels))
        self.head = MODELS.build(dict(head, in_channels=head_channels))

    @torch.no_grad()
    def _probe_shapes(self):
        """Width and grids of the last stage's output, from a dry run (in eval mode, so that
        BatchNorm statistics are untouched)."""
        was_training = self.backbone.training
        self.backbone.eval()
        template = self.template_features(torch.zeros(1, 3, self.template_size,
                                                      self.template_size))
        search = self.stages_before_last(torch.zeros(1, 3, self.search_size, self.search_size))
        search_out, template_out = self.mixed_last_stage(search, template)
        self.backbone.train(was_training)
        return search_out.shape[1], tuple(template_out.shape[-2:]), tuple(search_out.shape[-2:])

    # ---- the two inference branches ----------------------------------------------------

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """BGR 0..255 -> RGB, ImageNet-normalised."""
        return (images.float().flip(1) - self.mean) / self.std

    def stages_before_last(self, images: torch.Tensor) -> torch.Tensor:
        x = self.backbone.stem(self.normalize(images))
        for stage in self.backbone.stages[:-1]:
            x = stage(x)
        return x

    def template_features(self, template: torch.Tensor) -> torch.Tensor:
        """What is cached per target: the template's features before the last kept stage."""
        return self.stages_before_last(template)

    def mixed_last_stage(self, search: torch.Tensor,
                         template: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        joint = self.backbone.stages[-1](join_search_template(search, template))
        rows = search.shape[-2] + template.shape[-2]
        if joint.shape[-2] * search.shape[-2] % rows:
            raise ValueError(f'the last stage maps {rows} joint rows to {joint.shape[-2]}, which '
                             'does not split into search and template rows: choose template '
                             'and search sizes that are multiples of the backbone stride')
        search_rows = joint.shape[-2] * search.shape[-2] // rows
        template_cols = joint.shape[-1] * template.shape[-1] // search.shape[-1]
        return joint[..., :search_rows, :], joint[..., search_rows:, :template_cols]

    def search_forward(self, search: torch.Tensor, template_feat: torch.Tensor):
        """Score logits, offsets and sizes on the search crop, given cached template features."""
        search_feat, template_out = self.mixed_last_stage(self.stages_before_last(search),
                                                          template_feat)
        return self.head(self.neck(search_feat, template_out))

    # ---- mmengine interface --------------------------------------------------------------

    def forward(self, inputs: Dict[str, torch.Tensor], data_samples: Optional[dict] = None,
                mode: str = 'tensor'):
        score, offset, size = self.search_forward(inputs['search'],
                                                  self.template_features(inputs['template']))
        if mode == 'tensor':
            return score, offset, size
        if mode == 'predict':
            return decode_boxes(score, offset, size)
        if mode == 'loss':
            return self.loss(score, offset, size, data_samples['search_box'])
        raise ValueError(f'unknown mode {mode!r}')

    def loss(self, score, offset, size, target: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``target``: normalised (cx, cy, w, h) boxes in the search crop. The box losses are
        taken on the box decoded at the predicted peak, as in the reference."""
        height, width = score.shape[-2:]
        target = target.float()
        heat = gaussian_centre_map(target, height, width)
        pred = decode_boxes(score, offset, size)
        pred_xyxy, target_xyxy = cxcywh_to_xyxy(pred), cxcywh_to_xyxy(target).clamp(0, 1)
        loss_giou, iou = giou_loss(pred_xyxy, target_xyxy)
        return dict(
            loss_focal=self.loss_weights['focal'] * gaussian_focal_loss(score, heat),
            loss_giou=self.loss_weights['giou'] * loss_giou,
            loss_l1=self.loss_weights['l1'] * l1_loss(pred_xyxy, target_xyxy),
            iou=iou.detach().mean())


class TemplateBranch(nn.Module):
    """Template crop (B, 3, t, t) BGR 0..255 -> cached features: the first exported graph."""

    def __init__(self, tracker: OneStreamTracker):
        super().__init__()
        self.tracker = tracker

    def forward(self, template: torch.Tensor) -> torch.Tensor:
        return self.tracker.template_features(template)


class SearchBranch(nn.Module):
    """Search crop + cached template features -> score probabilities, offsets, sizes: the
    second exported graph."""

    def __init__(self, tracker: OneStreamTracker):
        super().__init__()
        self.tracker = tracker

    def forward(self, search: torch.Tensor, template_feat: torch.Tensor):
        score, offset, size = self.tracker.search_forward(search, template_feat)
        return score.sigmoid(), offset, size
