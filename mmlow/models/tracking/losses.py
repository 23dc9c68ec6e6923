"""Training targets and losses of the centre head: Gaussian-weighted focal loss on the score
map, GIoU and L1 on the box decoded at the ground-truth cell."""
import torch
import torch.nn.functional as F


def cxcywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    centre, size = boxes[:, :2], boxes[:, 2:]
    return torch.cat([centre - size / 2, centre + size / 2], dim=1)


def gaussian_centre_map(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """A Gaussian around each box's centre cell (peak exactly 1 there), sigma from its size."""
    cells_x = (boxes[:, 0] * width).floor().clamp(0, width - 1)
    cells_y = (boxes[:, 1] * height).floor().clamp(0, height - 1)
    sigma = (torch.sqrt(boxes[:, 2] * width * boxes[:, 3] * height) / 6).clamp(min=0.5)
    xs = torch.arange(width, dtype=boxes.dtype, device=boxes.device)
    ys = torch.arange(height, dtype=boxes.dtype, device=boxes.device)
    dist2 = ((xs[None, None, :] - cells_x[:, None, None])**2 +
             (ys[None, :, None] - cells_y[:, None, None])**2)
    heat = torch.exp(-dist2 / (2 * sigma[:, None, None]**2))
    return heat.unsqueeze(1)


def centre_index(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    cells_x = (boxes[:, 0] * width).floor().clamp(0, width - 1).long()
    cells_y = (boxes[:, 1] * height).floor().clamp(0, height - 1).long()
    return cells_y * width + cells_x


def gaussian_focal_loss(logits: torch.Tensor, target: torch.Tensor, alpha: float = 2.0,
                        gamma: float = 4.0) -> torch.Tensor:
    """CenterNet's focal loss: cells where the target is 1 are positives, the others are
    negatives down-weighted by ``(1 - target) ** gamma`` near the centre."""
    prob = logits.sigmoid().clamp(1e-4, 1 - 1e-4)
    positive = target.eq(1).float()
    pos_loss = -torch.log(prob) * (1 - prob)**alpha * positive
    neg_loss = -torch.log(1 - prob) * prob**alpha * (1 - target)**gamma * (1 - positive)
    return (pos_loss.sum() + neg_loss.sum()) / positive.sum().clamp(min=1)


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
