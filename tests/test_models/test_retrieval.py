"""The retrieval model: embedding neck, Proxy-Anchor head (against pytorch-metric-learning),
a gallery that is never stale, self-exclusion, a few training iterations per head, and a short
training that must learn (Recall@1 on unseen identities far above its own initialisation)."""
import copy
import time

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.registry import MODELS
from mmengine.runner import Runner
from pytorch_metric_learning.losses import ProxyAnchorLoss

from mmlow.models.retrieval import EmbeddingNeck, ProxyAnchorHead
from mmlow.models.retrieval import retriever as retriever_module
from tests.tiny_configs import tiny_retrieval_cfg

SHAPES_CONFIG = 'configs/retrieval/lowformer_b1_shapes.py'


def test_embedding_neck_gives_unit_vectors():
    neck = EmbeddingNeck(8, 5)
    (embedding, ) = neck((torch.randn(4, 8), ))
    assert embedding.shape == (4, 5)
    torch.testing.assert_close(embedding.norm(dim=1), torch.ones(4))
    with pytest.raises(ValueError, match='GlobalAveragePooling'):
        neck((torch.randn(4, 8, 2, 2), ))


@pytest.mark.parametrize('seed', [0, 1])
def test_proxy_anchor_loss_matches_pytorch_metric_learning(seed):
    torch.manual_seed(seed)
    head = ProxyAnchorHead(num_classes=7, in_channels=6, margin=0.1, alpha=32.)
    reference = ProxyAnchorLoss(num_classes=7, embedding_size=6, margin=0.1, alpha=32)
    reference.proxies.data.copy_(head.proxies.data)
    embeddings = torch.randn(20, 6)
    labels = torch.randint(0, 5, (20, ))  # proxies 5, 6 have no positive in the batch
    ours = head.proxy_anchor_loss(head((embeddings, )), labels)
    torch.testing.assert_close(ours, reference(embeddings, labels), rtol=1e-6, atol=1e-6)


def test_proxy_anchor_rejects_out_of_range_labels():
    head = ProxyAnchorHead(num_classes=3, in_channels=4)
    with pytest.raises(ValueError, match=r'\[0, 3\)'):
        head.proxy_anchor_loss(torch.zeros(2, 3), torch.tensor([0, 3]))


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('shapes_retrieval') / 'data')


def build_runner(shapes_root, work_dir, head=None):
    cfg = tiny_retrieval_cfg(SHAPES_CONFIG, shapes_root, str(work_dir))
    if head is not None:
        cfg.model.head = head
    return Runner.from_cfg(cfg)


def embedded_from_scratch(model):
    """A copy of the model whose gallery is embedded afresh with the current weights."""
    fresh = copy.deepcopy(model)
    fresh.prototype_inited = False
    fresh._gallery_loader = model._gallery_loader
    fresh.prepare_prototype()
    return fresh


def gallery_from_scratch(model):
    """What the gallery embeddings are with the model's current weights."""
    return embedded_from_scratch(model).prototype_vecs


@pytest.mark.parametrize('head', [
    None,  # the config's ArcFace
    dict(type='mmpretrain.ArcFaceClsHead', num_classes=4, in_channels=128, num_subcenters=3,
         scale=30., margins=0.3),
    dict(type='ProxyAnchorHead', num_classes=4, in_channels=128),
])
def test_training_and_gallery_refresh(shapes_root, tmp_path, head):
    runner = build_runner(shapes_root, tmp_path, head)
    runner.train()
    model = runner.model
    assert model.gallery_refreshes == 1
    first = model.prototype_vecs.clone()
    torch.testing.assert_close(first, gallery_from_scratch(model))
    metrics = runner.val_loop.run()
    assert model.gallery_refreshes == 1  # nothing trained since: the gallery is current
    assert 0 <= metrics['retrieval/Recall@1'] <= 1

    # a training step changes the weights: the next evaluation must re-embed the gallery
    batch = next(iter(runner.train_dataloader))
    model.train()
    model.train_step(batch, runner.optim_wrapper)
    runner.val_loop.run()
    assert model.gallery_refreshes == 2
    assert not torch.allclose(model.prototype_vecs, first)
    torch.testing.assert_close(model.prototype_vecs, gallery_from_scratch(model))


def test_gallery_embedded_twice_across_processes_is_merged_not_added(shapes_root, tmp_path,
                                                                    monkeypatch):
    """mmengine's DefaultSampler pads the last batch with images another process also
    embeds: here a second process embedded every gallery image again."""
    model = build_runner(shapes_root, tmp_path).model
    single = embedded_from_scratch(model)

    def two_processes_with_the_same_share(tensor, op='sum'):
        if op == 'sum':
            tensor.mul_(2)
        elif op not in ('max', 'min'):
            raise AssertionError(f'unexpected reduction {op}')
    monkeypatch.setattr(retriever_module.dist, 'all_reduce', two_processes_with_the_same_share)
    merged = embedded_from_scratch(model)
    torch.testing.assert_close(merged.prototype_vecs, single.prototype_vecs)
    assert torch.equal(merged.prototype_labels, single.prototype_labels)


def test_predict_excludes_each_query_from_its_own_results(shapes_root, tmp_path):
    runner = build_runner(shapes_root, tmp_path)
    model = runner.model.eval()
    batch = model.data_preprocessor(next(iter(runner.test_dataloader)), False)
    samples = model.predict(batch['inputs'], batch['data_samples'])
    views = 3
    for sample in samples:
        assert sample.sample_idx not in sample.neighbour_indices.tolist()
        # mAP@10 asks for 10 neighbours; a 9-image gallery has 8 besides the query itself
        assert len(model.prototype_vecs) == 9 and len(sample.neighbour_indices) == 8
        assert int(sample.num_relevant) == views - 1
        assert sample.num_candidates == 8  # the metric checks the search reached its ks
    # the query embedding equals a fresh forward of the query image
    fresh = model.embed(batch['inputs'])
    torch.testing.assert_close(model.prototype_vecs[[s.sample_idx for s in samples]], fresh,
                               rtol=1e-4, atol=1e-5)


def test_evaluator_deeper_than_the_search_is_an_error(shapes_root, tmp_path):
    """The model searches as deep as its own recall_ks / map_topk (and R); an evaluator
    asking deeper than that, while the gallery holds more, is refused, not truncated."""
    cfg = tiny_retrieval_cfg(SHAPES_CONFIG, shapes_root, str(tmp_path))
    cfg.model.update(recall_ks=(1, ), map_topk=2)  # 2 neighbours of 8 candidates
    cfg.test_evaluator.update(recall_ks=(1, 4), map_topk=2)
    with pytest.raises(ValueError, match='2 neighbours of 8 gallery items'):
        Runner.from_cfg(cfg).test()


def test_gallery_must_be_a_dataloader():
    with pytest.raises(TypeError, match='dataloader'):
        MODELS.build(dict(type='EmbeddingRetriever', image_encoder=[], prototype='gallery.pth'))


def test_fixed_gallery_is_searched_as_given(shapes_root, tmp_path):
    runner = build_runner(shapes_root, tmp_path)
    model = runner.model.eval()
    assert model.backbone is model.image_encoder[0]
    gallery = torch.nn.functional.normalize(torch.randn(40, 128), dim=1)
    model.set_gallery(gallery)
    inputs = torch.randn(3, 3, 32, 32)
    samples = model.predict(inputs)
    expected = (model.embed(inputs) @ gallery.T).topk(10, dim=1)
    for sample, indices, scores in zip(samples, expected.indices, expected.values):
        assert sample.neighbour_indices.tolist() == indices.tolist()
        torch.testing.assert_close(sample.neighbour_scores, scores)
        assert 'num_relevant' not in sample  # unlabelled: nothing to score against
    model.train()  # a given gallery is not the model's to recompute
    assert model.prototype_inited and model.gallery_refreshes == 0


def test_latency_hook_times_embedding_and_search(shapes_root, tmp_path):
    from mmlow.engine import LatencyHook
    cfg = tiny_retrieval_cfg(SHAPES_CONFIG, shapes_root, str(tmp_path))
    cfg.test_dataloader.batch_size = cfg.model.prototype.batch_size = 2
    cfg.custom_hooks = [dict(type='LatencyHook', warmup=1, mode='embedding'),
                        dict(type='LatencyHook', warmup=1, mode='search'),
                        dict(type='LatencyHook', warmup=1)]
    runner = Runner.from_cfg(cfg)
    runner.test()
    embedding, search, end2end = [h for h in runner.hooks if isinstance(h, LatencyHook)]
    (embedding_record, ), (search_record, ) = embedding.records, search.records
    # 9 test images, batches of 2: the gallery is embedded once, in 5 calls (the queries
    # reuse it), and each of the 5 query batches is searched once; one call of each warms up
    assert embedding_record['num_iters'] == 4 and embedding_record['num_images'] == 7
    assert embedding_record['input_shape'] == [2, 3, 32, 32]
    assert search_record['num_iters'] == 4 and search_record['num_images'] == 7
    assert search_record['input_shape'] == [2, 128]
    for record in (embedding_record, search_record):
        assert 0 < record['median_ms'] <= record['p90_ms']
    # searching 9 embeddings is cheaper than the whole step that embeds the gallery too
    assert search_record['mean_ms'] < end2end.records[0]['mean_ms']
    assert 'embed' not in vars(runner.model) and 'search' not in vars(runner.model)
    with pytest.raises(ValueError, match='a part of the eager model'):
        LatencyHook(mode='search', backend='onnxruntime')


class KeepInitialWeights(Hook):
    """The weights training starts from (after mmengine's init_weights, seed of the config)."""

    def before_train(self, runner):
        self.state_dict = copy.deepcopy(runner.model.state_dict())


def test_short_training_learns_unseen_identities(tmp_path, single_thread):
    """About 70 iterations of the shapes config (24 training identities, 32x32, one thread:
    ~30 s) must lift Recall@1 on 12 unseen identities far above the same network at the
    weights it started from (same seed). Measured: 0.677 trained vs 0.198 untrained."""
    from mmlow.apis.retrieval import evaluate_retriever
    cfg = tiny_retrieval_cfg(SHAPES_CONFIG, str(tmp_path / 'data'), str(tmp_path / 'work'),
                             identities=(24, 12), views=8, image_size=32, batch_size=16)
    epochs = 6  # of 12 iterations
    cfg.train_cfg.update(max_epochs=epochs, val_interval=epochs)
    cfg.param_scheduler[-1].end = epochs
    cfg.default_hooks.checkpoint.interval = epochs
    cfg.default_hooks.logger.interval = 12
    cfg.custom_hooks = []  # latency records are not what this measures
    runner = Runner.from_cfg(cfg)
    initial = KeepInitialWeights()
    runner.register_hook(initial)
    start = time.perf_counter()
    runner.train()
    minutes = (time.perf_counter() - start) / 60
    trained = evaluate_retriever(runner.model.eval(), cfg)
    untrained_model = copy.deepcopy(runner.model)
    untrained_model.load_state_dict(initial.state_dict)
    untrained = evaluate_retriever(untrained_model.eval(), cfg)
    # the run's own validation (same split, the retriever's search) agrees
    scalars = runner.message_hub.log_scalars
    assert abs(scalars['val/retrieval/Recall@1'].current() - trained['Recall@1']) <= 1e-6
    report = (f'Recall@1 trained {trained["Recall@1"]:.3f}, untrained '
              f'{untrained["Recall@1"]:.3f}; MAP@R {trained["MAP@R"]:.3f} vs '
              f'{untrained["MAP@R"]:.3f}; {minutes:.2f} training minutes')
    print(report)
    assert trained['Recall@1'] >= untrained['Recall@1'] + 0.25, report
    assert trained['MAP@R'] >= untrained['MAP@R'] + 0.15, report
