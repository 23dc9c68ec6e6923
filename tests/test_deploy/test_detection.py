"""What a single-stage detector's post-processing sees: the candidate control, the counts and
mmlow's top-k preselection, checked against mmdet's own post-processing."""
import os
from functools import partial

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.registry import MODELS, init_default_scope

from mmlow.deploy import BackendModel

from mmlow.benchmark import synthetic_batch
from mmlow.deploy.detection import (PostprocessCounter, candidates_argument,
                                       preselect_top_priors, set_candidates)
from mmlow.deploy.loading import model_from_config
from tests.conftest import randomize_

CONFIG = 'configs/detection/retinanet_lowformer_b1_shapes.py'
SHAPE = (128, 128)  # levels of 16x16 ... 1x1 positions, 9 anchors, 3 classes: 9,207 pairs


@pytest.fixture
def tiny_retinanet(repo_root):
    torch.manual_seed(0)  # the head's own initialisation is random
    model, scope = model_from_config(os.path.join(repo_root, CONFIG))
    return model


def _preprocessed(model, seed=0):
    data = synthetic_batch('mmdet', SHAPE, 1, seed=seed)
    with torch.inference_mode():
        return data, model.data_preprocessor(data, False)['inputs']


def _mmdet_counts(model, data):
    """Candidates that pass the score threshold by mmdet's own post-processing: with nms_pre
    out of the way, every pair over the threshold reaches _bbox_post_process."""
    counter = PostprocessCounter()
    counter.attach(model.bbox_head)
    nms_pre = model.bbox_head.test_cfg.nms_pre
    model.bbox_head.test_cfg.nms_pre = 10 ** 9
    try:
        with torch.inference_mode():
            model.test_step(data)
    finally:
        model.bbox_head.test_cfg.nms_pre = nms_pre
        counter.detach()
    (candidates, ), (boxes, ) = counter.take()
    return candidates, boxes


def test_the_initialisation_lets_no_candidate_through(tiny_retinanet):
    # the regime the issue reports: RetinaNet's prior-probability bias, random weights
    data, _ = _preprocessed(tiny_retinanet)
    assert _mmdet_counts(tiny_retinanet, data) == (0, 0)


@pytest.mark.parametrize('count', [0, 50, 1000, 4000])
def test_candidates_set_the_count_that_passes_the_threshold(tiny_retinanet, count):
    model = tiny_retinanet
    data, inputs = _preprocessed(model)
    set_candidates(model, inputs, count)
    candidates, boxes = _mmdet_counts(model, data)
    assert abs(candidates - count) <= 0.1 * count
    assert boxes <= min(candidates, model.bbox_head.test_cfg.max_per_img)


def test_all_candidates_fill_every_level_up_to_nms_pre(tiny_retinanet):
    model = tiny_retinanet
    data, inputs = _preprocessed(model)
    set_candidates(model, inputs, 'all')
    assert _mmdet_counts(model, data)[0] == 9 * 3 * (16 * 16 + 8 * 8 + 4 * 4 + 2 * 2 + 1)
    backend_model = BackendModel(model, 'cpu')
    counter = PostprocessCounter()
    counter.attach(backend_model.dense_head)
    backend_model.test_step(data)
    # nms_pre (1,000) per level: the test_cfg's maximum
    assert counter.take() == ([1000 + 1000 + 9 * 3 * (16 + 4 + 1)], [100])
    assert 0 < model.bbox_head.retina_cls.bias.sigmoid().max() < 0.99  # no saturated ties


def test_bad_candidates_are_refused(tiny_retinanet):
    with pytest.raises(ValueError, match="count >= 0 or 'all'"):
        candidates_argument('many')
    inputs = _preprocessed(tiny_retinanet)[1]
    with pytest.raises(ValueError, match="count >= 0 or 'all'"):
        set_candidates(tiny_retinanet, inputs, -3)
    tiny_retinanet.bbox_head.test_cfg.score_thr = 0.
    with pytest.raises(ValueError, match='every .score, class. pair passes'):
        set_candidates(tiny_retinanet, inputs, 10)


def _head(kind: str):
    init_default_scope('mmdet')
    common = dict(num_classes=5, in_channels=8, feat_channels=8, stacked_convs=1,
                  test_cfg=ConfigDict(nms_pre=40, min_bbox_size=0, score_thr=0.05,
                                      nms=dict(type='nms', iou_threshold=0.5),
                                      max_per_img=30))
    if kind == 'RetinaHead':
        common.update(anchor_generator=dict(
            type='AnchorGenerator', octave_base_scale=4, scales_per_octave=3,
            ratios=[0.5, 1.0, 2.0], strides=[8, 16, 32]))
    else:
        common.update(strides=[8, 16, 32], norm_cfg=None)
    return randomize_(MODELS.build(dict(type=kind, **common))).eval()


@pytest.mark.parametrize('kind', ['RetinaHead', 'FCOSHead'])  # FCOS: centerness factors
# a few pairs over the threshold (fewer than nms_pre per level), some, most, or none
@pytest.mark.parametrize('bias, candidates', [(-4.5, None), (-2., 3 * 40), (1., 3 * 40),
                                              (-30., 0)])
def test_preselection_equals_mmdet(kind, bias, candidates):
    torch.manual_seed(0)
    head = _head(kind)
    feats = [torch.randn(2, 8, size, size + 3) for size in (16, 8, 4)]
    with torch.no_grad():
        outputs = head(feats)
    outputs = ([level + bias for level in outputs[0]], ) + tuple(outputs[1:])
    metas = [dict(img_shape=(128, 152), scale_factor=(0.5, 0.8)),
             dict(img_shape=(128, 152), scale_factor=(1., 1.))]
    expected = head.predict_by_feat(*outputs, batch_img_metas=metas, rescale=True)
    assert preselect_top_priors(head)
    front = head._predict_by_feat_single
    priors_seen = []

    def mmdet_single(**kwargs):  # mmdet's own method, told how many priors it gets
        priors_seen.append(sum(len(priors) for priors in kwargs['mlvl_priors']))
        return front.args[1](**kwargs)

    head._predict_by_feat_single = partial(front.func, head, mmdet_single)
    counter = PostprocessCounter()
    counter.attach(head)
    got = head.predict_by_feat(*outputs, batch_img_metas=metas, rescale=True)
    reached, boxes = counter.take()
    if candidates is None:  # fewer than nms_pre pass on some level, so fewer reach NMS
        assert 0 < min(reached) and max(reached) < 3 * 40
    else:
        assert reached == [candidates] * 2  # nms_pre per level reached NMS, or none
    # only priors holding a candidate, of 9 (RetinaNet) or 1 (FCOS) x (16x19 + 8x11 + 4x7)
    assert len(priors_seen) == 2 and max(priors_seen) <= max(reached)
    for e, g, n in zip(expected, got, boxes):
        assert len(g) == n and (n > 0) == (candidates != 0)
        assert torch.equal(e.bboxes, g.bboxes)
        assert torch.equal(e.labels, g.labels)
        if kind == 'RetinaHead':
            assert torch.equal(e.scores, g.scores)
        else:  # the centerness sigmoid, vectorised over another length, may round apart
            torch.testing.assert_close(g.scores, e.scores, rtol=3e-7, atol=0)


def test_benchmark_model_preselects_and_predicts_alike(tiny_retinanet):
    model = tiny_retinanet
    data, inputs = _preprocessed(model)
    set_candidates(model, inputs, 2000)
    fast, dense = BackendModel(model, 'cpu'), BackendModel(model, 'cpu', fast_postprocess=False)
    assert fast.fast_postprocess and not dense.fast_postprocess
    (e, ), (g, ) = dense.test_step(data), fast.test_step(data)
    assert len(g.pred_instances) > 0
    for key in ('bboxes', 'scores', 'labels'):
        assert torch.equal(e.pred_instances[key], g.pred_instances[key])
