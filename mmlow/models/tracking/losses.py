"""Training targets and losses of the centre head, as LowFormer-Track (OSTrack) computes them:
a focal loss against CenterNet's Gaussian heat map, GIoU and L1 on the box decoded at the
predicted peak."""
import torch
import torch.nn.functional as F


def cxcywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    centre, size = boxes[:, :2], boxes[:, 2:]
    return torch.cat([centre - size / 2, centre + size / 2], dim=1)


def centre_cells(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The cell (column, row) of each normalised ``(cx, cy, w, h)`` box's centre, rounded as
    the reference's ``generate_heatmap`` does (a centre at 6.6 cells lands in cell 7)."""
    return torch.stack([(boxes[:, 0] * width).round(), (boxes[:, 1] * height).round()], dim=1)


def gaussian_radius(size: torch.Tensor, min_overlap: float = 0.7) -> torch.Tensor:
    """CornerNet's radius for boxes of ``size`` (w, h) cells: the smallest of its three
    cases, in the form CenterNet (and the reference) use."""
    width, height = size[:, 0], size[:, 1]
    b1 = height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + torch.sqrt(b1**2 - 4 * c1)) / 2
    b2 = 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + torch.sqrt(b2**2 - 16 * c2)) / 2
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + torch.sqrt(b3**2 - 4 * a3 * c3)) / 2
    return torch.min(r1, torch.min(r2, r3))


def gaussian_centre_map(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """CenterNet's target: a Gaussian (sigma = diameter / 6) of integer radius from the box
    size around the centre cell, 1 there, 0 beyond the radius."""
    centres = centre_cells(boxes, height, width)
    size = boxes[:, 2:] * boxes.new_tensor([width, height])
    radius = gaussian_radius(size).clamp(min=0).floor()
    sigma = (2 * radius + 1) / 6
    xs = torch.arange(width, dtype=boxes.dtype, device=boxes.device)
    ys = torch.arange(height, dtype=boxes.dtype, device=boxes.device)
    dx = xs[None, None, :] - centres[:, 0, None, None]
    dy = ys[None, :, None] - centres[:, 1, None, None]
    heat = torch.exp(-(dx**2 + dy**2) / (2 * sigma[:, None, None]**2))
    inside = (dx.abs() <= radius[:, None, None]) & (dy.abs() <= radius[:, None, None])
    # the reference zeroes values below float64 machine epsilon of the peak
    heat = torch.where(inside & (heat >= torch.finfo(torch.float64).eps), heat,
                       torch.zeros_like(heat))
    return heat.unsqueeze(1)


def gaussian_focal_loss(logits: torch.Tensor, target: torch.Tensor, alpha: float = 2.0,
                        beta: float = 4.0) -> torch.Tensor:
    """The reference's focal loss: cells where the target exceeds 0.1 are positives, cells
    below 0.1 negatives down-weighted by ``(1 - target) ** beta``; normalised by the number
    of positives."""
    prob = logits.sigmoid().clamp(1e-4, 1 - 1e-4)
    positive = target.gt(0.1).float()
    negative = target.lt(0.1).float()
    pos_loss = (torch.log(prob) * (1 - prob)**alpha * positive).sum()
    neg_loss = (torch.log(1 - prob) * prob**alpha * (1 - target)**beta * negative).sum()
    num_positive = positive.sum()
    if num_positive == 0:
        return -neg_loss
    return -(pos_loss + neg_loss) / num_positive


def giou_loss(pred_xyxy: torch.Tensor, target_xyxy: torch.Tensor):
    """Mean (1 - GIoU) and the IoUs."""
    left_top = torch.max(pred_xyxy[:, :2], target_xyxy[:, :2])
    right_bottom = torch.min(pred_xyxy[:, 2:], target_xyxy[:, 2:])
    inter = (right_bottom - left_top).clamp(min=0).prod(dim=1)
    area_pred = (pred_xyxy[:, 2:] - pred_xyxy[:, :2]).clamp(min=0).prod(dim=1)
    area_target = (target_xyxy[:, 2:] - target_xyxy[:, :2]).clamp(min=0).prod(dim=1)
    union = area_pred + area_target - inter
    iou = inter / union.clamp(min=1e-7)
    hull = (torch.max(pred_xyxy[:, 2:], target_xyxy[:, 2:]) -
            torch.min(pred_xyxy[:, :2], target_xyxy[:, :2])).clamp(min=0).prod(dim=1)
    giou = iou - (hull - union) / hull.clamp(min=1e-7)
    return (1 - giou).mean(), iou


def l1_loss(pred_xyxy: torch.Tensor, target_xyxy: torch.Tensor) -> torch.Tensor:
    return F.l1_loss(pred_xyxy, target_xyxy)
