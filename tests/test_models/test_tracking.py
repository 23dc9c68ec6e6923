"""One-stream tracker: crop geometry, presets of every family, mixed attention, losses, a few
training iterations, the frame loop and the two-graph ONNX export."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmlow.models.backbones import base as backbone_base
from mmlow.models.tracking import (CropTracker, NCCTracker, OneStreamTracker, SearchBranch,
                                   StaticTracker, clip_box, crop, crop_transform, decode_boxes,
                                   hann_window)
from mmlow.models.tracking.losses import gaussian_centre_map, gaussian_focal_loss
from mmlow.models.weights import WeightsMismatchError
from mmlow.registry import DATASETS, MODELS
from tests.conftest import REPO_ROOT, randomize_

CPU_CONFIG = osp.join(REPO_ROOT, 'configs/tracking/lowformer-track_cpu_synthetic.py')
PRESETS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs/tracking/*.py')))
assert len(PRESETS) >= 6, 'the tracking presets were not found'


@pytest.mark.parametrize('box, factor, size', [([10.5, 20.25, 30, 12], 4.0, 128),
                                                ([-5, 3, 8, 40], 2.0, 64),
                                                ([100, 90, 1.5, 2.5], 4.0, 224)])
def test_crop_geometry_round_trip(box, factor, size):
    transform = crop_transform(box, factor, size)
    np.testing.assert_allclose(transform.box_from_crop(transform.box_to_crop(box)), box,
                               atol=1e-9)
    x, y, w, h = transform.box_to_crop(box)
    side = factor * np.sqrt(box[2] * box[3])
    # the box is centred in the crop and scaled by size / side
    assert x + w / 2 == pytest.approx(size / 2) and y + h / 2 == pytest.approx(size / 2)
    assert w == pytest.approx(box[2] * size / side)


def test_crop_pixels_land_where_the_transform_says():
    image = np.zeros((100, 120, 3), np.uint8)
    image[40:60, 30:50] = 255        # the 20x20 block [30, 50) x [40, 60)
    transform = crop_transform([35, 45, 10, 10], 4.0, 80)     # 2 crop px per frame px
    patch = crop(image, transform)
    x, y, w, h = transform.box_to_crop([30, 40, 20, 20])
    ys, xs = np.nonzero(patch[..., 0] > 127)
    assert xs.min() == pytest.approx(x, abs=1) and xs.max() + 1 == pytest.approx(x + w, abs=1)
    assert ys.min() == pytest.approx(y, abs=1) and ys.max() + 1 == pytest.approx(y + h, abs=1)


def test_clip_box_keeps_boxes_inside():
    np.testing.assert_allclose(clip_box([-10, 5, 30, 200], 100, 80), [0, 5, 20, 75])
    np.testing.assert_allclose(clip_box([150, 90, 10, 10], 100, 80, min_size=2),
                               [98, 78, 2, 2])


def _build(config, **overrides):
    cfg = Config.fromfile(config)
    cfg.model.update(overrides)
    return MODELS.build(cfg.model)


@pytest.mark.parametrize('config', PRESETS)
def test_every_preset_builds_and_runs(config):
    model = _build(config).eval()
    assert isinstance(model, OneStreamTracker)
    ratio = model.template_size // 16
    # the reference layout: a 7x7 (CPU preset 4x4) template grid at stride 16
    assert model.neck.num_template_tokens == ratio * ratio
    with torch.no_grad():
        score, offset, size = model(dict(
            template=torch.zeros(1, 3, model.template_size, model.template_size),
            search=torch.zeros(1, 3, model.search_size, model.search_size)))
    grid = model.search_size // 16
    assert score.shape == (1, 1, grid, grid) and offset.shape == size.shape == (1, 2, grid, grid)


def test_reference_preset_is_the_papers_layout():
    model = _build('configs/tracking/lowformer-track_b15_got10k-lasot-coco.py')
    assert len(model.backbone.stages) == 3            # last stage removed
    assert model.backbone.dropped_stages == (3, )
    assert model.backbone.stages[-1][-1].attn.proj_up.out_channels == 160
    assert (model.template_size, model.search_size) == (112, 224)
    assert model.neck.num_template_tokens == 49
    assert model.neck.project.out_channels == 160     # the reference's head width
    # a 3x3 Conv-BN-ReLU, then 4 / 2 LowFormer blocks with stride-2 attention
    for branch, blocks in ((model.head.box_blocks, 4), (model.head.score_blocks, 2)):
        assert branch[0].conv.kernel_size == (3, 3) and len(branch) == 1 + blocks
        assert all(block.attn.token_down.conv.stride == (2, 2) for block in branch[1:])
    # separable towers 160 -> 160 -> 80 -> 40, then the output conv
    tower = model.head.score_tower
    assert [layer.separable[2].out_channels for layer in tower[:-1]] == [160, 80, 40]
    assert all(layer.separable[0].groups == layer.separable[0].in_channels
               for layer in tower[:-1])
    assert tower[-1].out_channels == 1


def _with_open_residuals(model):
    """Residual branches that the default init closes (zero BN gammas, 1e-5 layer scales)
    opened to 1, as a trained model's are: otherwise a stage is the identity at init."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.dim() <= 1 and param.abs().max() < 1e-3 and not name.endswith('bias'):
                param.fill_(1.0)
    return model


# how each preset's joint stage mixes the template into the search tokens: 'global' (attention
# over the joint map) or 'seam' (convolutions only: the rows next to the template)
MIXING = {'lowformer-track_e1_got10k-lasot-coco.py': 'seam'}


@pytest.mark.parametrize('config', PRESETS, ids=osp.basename)
def test_joint_stage_mixes_template_into_search_tokens(config):
    """Changing only the template changes the search features after the joint stage: in every
    search row for the one-stream presets, next to the seam only for the attention-free E1."""
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = _with_open_residuals(MODELS.build(cfg.model)).eval()
    t, s = model.template_size, model.search_size
    search = torch.rand(1, 3, s, s) * 255
    template_a, template_b = torch.rand(2, 1, 3, t, t) * 255
    with torch.no_grad():
        before = model.stages_before_last(search)
        out_a, _ = model.mixed_last_stage(before, model.template_features(template_a))
        out_b, _ = model.mixed_last_stage(before, model.template_features(template_b))
    change = (out_a - out_b).abs().amax(dim=(0, 1, 3)) / out_a.abs().amax(dim=(0, 1, 3))
    if MIXING.get(osp.basename(config), 'global') == 'global':
        assert change.min() > 1e-3, change
    else:
        rows = len(change)
        assert change[:rows // 2].max() < 1e-6 and change[-1] > 1e-3, change


def test_truncated_backbone_loads_its_imagenet_weights(tmp_path, monkeypatch):
    """A classifier checkpoint of the full backbone: the kept stages load exactly, the dropped
    stage's tensors are left out (and said so), a checkpoint of another shape is refused."""
    cfg = Config.fromfile(CPU_CONFIG)
    full = MODELS.build(cfg.model.backbone)
    randomize_(full, seed=3)
    state = {f'backbone.{k}': v for k, v in full.state_dict().items()}
    state['head.fc.weight'] = torch.randn(10, 192)
    checkpoint = str(tmp_path / 'imagenet.pth')
    torch.save({'state_dict': state}, checkpoint)

    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=checkpoint,
                                       prefix='backbone.')
    tracker = MODELS.build(cfg.model)
    logged = []
    monkeypatch.setattr(backbone_base, 'print_log', lambda msg, **kwargs: logged.append(msg))
    tracker.init_weights()
    kept = tracker.backbone.state_dict()
    assert kept and all(torch.equal(v, full.state_dict()[k]) for k, v in kept.items())
    dropped = [k for k in full.state_dict() if k.startswith('stages.3.')]
    assert dropped and f'left out {len(dropped)} tensors of stages 3' in logged[-1]

    other = dict(state)
    other['backbone.stages.2.0.spatial_conv.conv.weight'] = torch.zeros(3, 3)
    torch.save(other, checkpoint)
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=checkpoint,
                                       prefix='backbone.')
    with pytest.raises(WeightsMismatchError, match='mis-shaped'):
        MODELS.build(cfg.model).init_weights()


TIMM_NAMES = {'lowformer-track_b15': 'lowformer_b15', 'lowformer-track_b1': 'lowformer_b1',
              'lowformer-track_e1': 'lowformer_e1', 'efficientvit-track_m4': 'efficientvit_m4',
              'efficientformerv2-track_s1': 'efficientformerv2_s1'}


@pytest.mark.parametrize('config', [p for p in PRESETS if 'cpu_synthetic' not in p],
                         ids=osp.basename)
def test_every_reference_preset_starts_from_timm_imagenet_weights(config, tmp_path):
    """Each real-data preset names an ImageNet checkpoint of its backbone; a timm-layout file
    of that backbone loads into the truncated tracker backbone tensor for tensor."""
    timm = pytest.importorskip('timm')
    from mmlow.converters import read_backbone_checkpoint
    cfg = Config.fromfile(config)
    init = cfg.model.backbone.init_cfg
    assert init.type == 'Pretrained' and init.checkpoint.endswith('_in1k.pth')
    name = TIMM_NAMES[osp.basename(config).split('_got10k')[0]]
    torch.manual_seed(0)
    path = str(tmp_path / f'{name}.pth')
    torch.save(timm.create_model(name).state_dict(), path)
    init.checkpoint = path
    tracker = MODELS.build(cfg.model)
    tracker.init_weights()
    converted, layout = read_backbone_checkpoint(path, tracker.backbone.family)
    assert layout == 'timm'
    kept = tracker.backbone.state_dict()
    assert all(torch.equal(v, converted[f'backbone.{k}']) for k, v in kept.items())


def test_last_stage_out_of_range_is_refused():
    with pytest.raises(ValueError, match='last_stage=4'):
        _build(CPU_CONFIG, last_stage=4)


def test_focal_target_and_decoding():
    boxes = torch.tensor([[0.30, 0.70, 0.25, 0.20]])
    heat = gaussian_centre_map(boxes, 8, 8)
    # the centre (2.4, 5.6) cells is rounded, as the reference does: cell (row 6, col 2)
    assert heat[0, 0, 6, 2] == 1 and (heat == 1).sum() == 1
    # a score map that peaks at the right cell with the right offset/size decodes exactly;
    # the offset from the rounded cell is negative here
    score = torch.full((1, 1, 8, 8), -5.0)
    score[0, 0, 6, 2] = 5.0
    offset = torch.zeros(1, 2, 8, 8)
    offset[0, :, 6, 2] = torch.tensor([0.30 * 8 - 2, 0.70 * 8 - 6])
    size = torch.zeros(1, 2, 8, 8)
    size[0, :, 6, 2] = torch.tensor([0.25, 0.20])
    torch.testing.assert_close(decode_boxes(score, offset, size), boxes)
    assert gaussian_focal_loss(score * 3, heat) < gaussian_focal_loss(-score, heat)


def test_box_losses_use_the_predicted_peak():
    """GIoU and L1 are taken on the box where the score map peaks, not at the true centre: a
    perfect box at the true cell does not help while the peak is elsewhere."""
    model = _build(CPU_CONFIG)
    target = torch.tensor([[0.30, 0.70, 0.25, 0.20]])
    offset = torch.zeros(1, 2, 8, 8)
    offset[0, :, 6, 2] = torch.tensor([0.30 * 8 - 2, 0.70 * 8 - 6])
    size = torch.full((1, 2, 8, 8), 0.1)
    size[0, :, 6, 2] = torch.tensor([0.25, 0.20])
    at_centre = torch.full((1, 1, 8, 8), -5.0)
    at_centre[0, 0, 6, 2] = 5.0
    elsewhere = torch.full((1, 1, 8, 8), -5.0)
    elsewhere[0, 0, 1, 6] = 5.0
    right = model.loss(at_centre, offset, size, target)
    wrong = model.loss(elsewhere, offset, size, target)
    assert right['loss_l1'] < 1e-6 and right['iou'] > 0.999
    assert wrong['loss_l1'] > 0.1 and wrong['iou'] == 0


def test_a_short_training_localises_targets_in_held_out_pairs(tmp_path):
    """100 iterations on the synthetic sequences (about 16 s) take the CPU preset from
    predicting nothing (held-out IoU 0.04) to IoU 0.53 on pairs of unseen sequences (measured);
    a box at the crop's centre with the true size, what a tracker that does not look at the
    image could at best answer, reaches 0.10."""
    from mmlow.models.tracking.losses import cxcywh_to_xyxy, giou_loss
    generation = dict(num_train=40, num_val=10, length=30, frame_size=(160, 160), seed=0)
    pairs = dict(type='TrackingPairDataset', template_size=64, search_size=128, max_interval=30)

    def pair_dataset(subset, length, seed):
        reader = dict(type='ShapesTrackingReader', root=str(tmp_path / 'shapes'), subset=subset,
                      **generation)
        return DATASETS.build(dict(pairs, sources=[reader], samples_per_epoch=length, seed=seed))

    iterations, batch_size = 100, 16
    train = pair_dataset('train', iterations * batch_size, seed=0)
    held_out = [pair_dataset('val', 64, seed=1)[i] for i in range(64)]
    inputs = {key: torch.stack([pair['inputs'][key] for pair in held_out])
              for key in ('template', 'search')}
    truth = torch.stack([pair['data_samples']['search_box'] for pair in held_out])

    def held_out_iou(boxes):
        return giou_loss(cxcywh_to_xyxy(boxes), cxcywh_to_xyxy(truth))[1].mean().item()

    torch.manual_seed(0)
    model = _build(CPU_CONFIG)

    def predicted_iou():
        model.eval()
        with torch.no_grad():
            iou = held_out_iou(model(inputs, mode='predict'))
        model.train()
        return iou

    untrained = predicted_iou()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    for batch in torch.utils.data.DataLoader(train, batch_size=batch_size, shuffle=True):
        parts = model(batch['inputs'], batch['data_samples'], mode='loss')
        loss = sum(value for key, value in parts.items() if key.startswith('loss'))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
    assert set(parts) == {'loss_focal', 'loss_giou', 'loss_l1', 'iou'}
    centred = truth.clone()
    centred[:, :2] = 0.5
    trained = predicted_iou()
    assert untrained < 0.2 and held_out_iou(centred) < 0.2
    assert trained > 0.4 and trained > held_out_iou(centred) + 0.25


def test_crop_tracker_follows_boxes_back_to_the_frame():
    """With a network that always points at the crop's centre cell with the previous size,
    the tracker must return the previous box (geometry and decoding agree)."""
    def template_fn(patch):
        return None

    def search_fn(patch, feat):
        grid = 8
        score = np.zeros((1, 1, grid, grid))
        score[0, 0, 4, 4] = 1
        offset = np.zeros((1, 2, grid, grid))       # centre at cell 4 + 0 -> 0.5 of the crop
        size = np.full((1, 2, grid, grid), 0.25)    # search factor 4: the box is 1/4 of it
        return score, offset, size

    tracker = CropTracker(template_fn, search_fn, 64, 128, 2.0, 4.0)
    frame = np.zeros((200, 300, 3), np.uint8)
    tracker.init(frame, [100, 50, 40, 40])
    np.testing.assert_allclose(tracker.track(frame), [100, 50, 40, 40], atol=1e-9)
    tracker.box = np.array([290, 190, 40, 40])
    assert (tracker.track(frame)[:2] + tracker.box[2:] <= [300, 200]).all()   # clipped


def test_hann_window_prefers_the_centre():
    window = hann_window(8, 8)
    assert window.argmax() in (27, 28, 35, 36) and window.min() > 0


def test_tracking_loop_applies_the_window_and_caches_the_template():
    """A peak at the edge of the score map, slightly above one near the centre: the Hann
    window makes the tracker keep the central one (a jump to the edge needs a clear lead);
    the template branch runs once per sequence, not per frame."""
    template_calls = []

    def template_fn(patch):
        template_calls.append(patch.shape)
        return np.ones((1, 4))

    def search_fn(patch, template_feat):
        score = np.full((1, 1, 8, 8), 0.1)
        score[0, 0, 4, 4] = 0.8      # the centre cell of the 8x8 map
        score[0, 0, 0, 0] = 0.9      # the corner
        offset = np.full((1, 2, 8, 8), 0.5)
        size = np.full((1, 2, 8, 8), 0.25)  # 32 of the 128 crop px: 40 frame px
        return score, offset, size

    tracker = CropTracker(template_fn, search_fn, 64, 128, 2.0, 4.0)
    frame = np.zeros((400, 400, 3), np.uint8)
    tracker.init(frame, [180, 180, 40, 40])
    for _ in range(3):
        box = tracker.track(frame)
    # the centre cell with its offset is 8 of the 128 crop px (10 frame px) right of and below
    # the crop's centre: 10 px a frame; the corner would have thrown the box far up and left
    np.testing.assert_allclose(box, [210, 210, 40, 40], atol=1e-6)
    assert template_calls == [(1, 3, 64, 64)]


def test_baselines():
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[20:30, 20:30] = (0, 255, 0)
    static = StaticTracker()
    static.init(frame, [18, 18, 14, 14])
    moved = np.zeros_like(frame)
    moved[24:34, 27:37] = (0, 255, 0)
    np.testing.assert_allclose(static.track(moved), [18, 18, 14, 14])
    ncc = NCCTracker()
    ncc.init(frame, [18, 18, 14, 14])      # the block with a dark border
    np.testing.assert_allclose(ncc.track(moved), [25, 22, 14, 14])


@pytest.mark.parametrize('config', PRESETS, ids=osp.basename)
def test_onnx_graphs_match_eager(config, tmp_path):
    ort = pytest.importorskip('onnxruntime')
    from mmlow.deploy.tracking import export_tracker_onnx
    model = _with_open_residuals(_build(config)).eval()
    template_path, search_path = export_tracker_onnx(model, str(tmp_path))
    t, s = model.template_size, model.search_size
    generator = torch.Generator().manual_seed(0)
    template = (torch.rand(1, 3, t, t, generator=generator) * 255).round()
    search = (torch.rand(1, 3, s, s, generator=generator) * 255).round()
    with torch.no_grad():
        feat = model.template_features(template)
        score, offset, size = model.search_forward(search, feat)
    template_session = ort.InferenceSession(template_path, providers=['CPUExecutionProvider'])
    search_session = ort.InferenceSession(search_path, providers=['CPUExecutionProvider'])
    onnx_feat = template_session.run(None, {'template': template.numpy()})[0]
    np.testing.assert_allclose(onnx_feat, feat.numpy(), atol=1e-4, rtol=0)
    outputs = search_session.run(None, {'search': search.numpy(), 'template_feat': onnx_feat})
    for ours, eager in zip(outputs, (score.sigmoid(), offset, size)):
        np.testing.assert_allclose(ours, eager.numpy(), atol=1e-4, rtol=0)


@pytest.mark.parametrize('config', PRESETS, ids=osp.basename)
def test_bn_fused_search_branch_matches_eager(config):
    """The deployed (BN-folded) search branch computes what eager does, with BN statistics
    that are not the identity (a BN after an activation must not be folded into the conv
    before it)."""
    from mmlow.deploy.backends import deploy_copy
    model = randomize_(_with_open_residuals(_build(config))).eval()
    t, s = model.template_size, model.search_size
    generator = torch.Generator().manual_seed(0)
    branch = SearchBranch(model).eval()
    search = torch.rand(1, 3, s, s, generator=generator) * 255
    with torch.no_grad():
        feat = model.template_features(torch.rand(1, 3, t, t, generator=generator) * 255)
        for ours, eager in zip(deploy_copy(branch)(search, feat), branch(search, feat)):
            torch.testing.assert_close(ours, eager, atol=1e-4, rtol=1e-3)


def test_sizes_that_do_not_split_the_joint_map_are_refused():
    with pytest.raises(ValueError, match='multiples of the backbone stride'):
        _build(CPU_CONFIG, template_size=72, search_size=120)
