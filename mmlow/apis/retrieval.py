"""The retrieval inference API: a trained retriever from a config and checkpoint, embedding
images, evaluating on the config's query / gallery split, searching a folder of images
(tools/retrieve.py) and the picture of a query beside its nearest gallery images."""
import copy
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.runner import Runner

from mmlow.config import load_config
from mmlow.deploy.loading import build_model
from mmlow.evaluation import cosine_topk, evaluate_embeddings
from mmlow.fileio import IMAGE_SUFFIXES

def build_retriever(cfg: Config, checkpoint: Optional[str] = None, seed: int = 0):
    """The config's EmbeddingRetriever in eval mode, with ``checkpoint``'s weights or, without
    one, its random initialisation for ``seed`` (mmlow.deploy.loading.build_model)."""
    model = build_model(cfg, checkpoint, seed=seed)
    if not hasattr(model, 'embed'):
        raise TypeError(f'{cfg.filename} builds a {type(model).__name__}, not a retriever '
                        '(model.type EmbeddingRetriever)')
    return model


def embed_loader(model, loader,
                 features: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Embeddings and labels of a dataloader's images, in dataset order. ``features``
    replaces the network (e.g. raw pixels) and receives the preprocessed batch."""
    num = len(loader.dataset)
    vectors, labels = None, torch.zeros(num, dtype=torch.long)
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        out = features(data['inputs']) if features else model.embed(data['inputs'])
        if vectors is None:
            vectors = out.new_zeros(num, out.shape[1])
        index = torch.tensor([s.sample_idx for s in data['data_samples']])
        vectors[index] = out.cpu()
        labels[index] = torch.cat([s.gt_label.view(-1)[:1] for s in data['data_samples']])
    return vectors, labels


def _eval_loaders(cfg: Config):
    """(query loader, gallery loader or None when the queries are the gallery)."""
    query = Runner.build_dataloader(copy.deepcopy(cfg.test_dataloader))
    if cfg.model.get('gallery_is_query', False):
        return query, None
    return query, Runner.build_dataloader(copy.deepcopy(cfg.model.prototype))


def evaluate_retriever(model, cfg: Config, features=None) -> Dict[str, float]:
    """The test metrics of ``model`` (or of ``features`` in its place) on the config's split."""
    query_loader, gallery_loader = _eval_loaders(cfg)
    query, query_labels = embed_loader(model, query_loader, features)
    gallery = gallery_labels = None
    if gallery_loader is not None:
        gallery, gallery_labels = embed_loader(model, gallery_loader, features)
    return evaluate_embeddings(query, query_labels, gallery, gallery_labels,
                               recall_ks=model.recall_ks, map_topk=model.map_topk)


# --- tools/retrieve.py ------------------------------------------------------------------

def list_images(folder: str) -> List[str]:
    if not osp.isdir(folder):
        raise FileNotFoundError(f'gallery folder {folder!r} does not exist')
    found = sorted(osp.join(root, name) for root, _, names in os.walk(folder)
                   for name in names if name.lower().endswith(IMAGE_SUFFIXES))
    if not found:
        raise FileNotFoundError(f'gallery folder {folder!r} holds no image '
                                f'({", ".join(IMAGE_SUFFIXES)})')
    return found


@torch.no_grad()
def embed_paths(model, pipeline: Sequence[dict], paths: Sequence[str],
                batch_size: int = 32) -> torch.Tensor:
    """Embeddings of image files through the config's test pipeline."""
    transform = Compose(copy.deepcopy(list(pipeline)))
    chunks = []
    for start in range(0, len(paths), batch_size):
        items = []
        for path in paths[start:start + batch_size]:
            if not osp.isfile(path):
                raise FileNotFoundError(f'image {path!r} does not exist')
            try:
                items.append(transform(dict(img_path=path)))
            except Exception as exc:  # noqa: BLE001 (decoders raise anything)
                raise ValueError(f'cannot read image {path!r}: {exc}') from exc
        data = model.data_preprocessor(pseudo_collate(items), False)
        chunks.append(model.embed(data['inputs']).cpu())
    return torch.cat(chunks)


def inference_retriever(model, queries: Sequence[str], topk: int = 5,
                        gallery_dir: Optional[str] = None) -> dict:
    """Each query image's ``topk`` nearest gallery images, as mmdet's ``inference_detector``
    for a retriever made by :func:`mmlow.apis.init_model` (its ``cfg`` gives the pipeline and
    the gallery).

    The gallery is ``gallery_dir`` (any images, no labels) or, by default, the config's
    gallery dataset (with labels). A query that is itself a gallery image takes its label
    from there and is left out of its own results.
    """
    cfg = model.cfg
    pipeline = cfg.test_dataloader.dataset.pipeline
    query_paths = [osp.abspath(p) for p in queries]
    if gallery_dir is not None:
        gallery_paths, gallery_labels = [osp.abspath(p) for p in list_images(gallery_dir)], None
        gallery = embed_paths(model, pipeline, gallery_paths)
    else:
        loader = Runner.build_dataloader(copy.deepcopy(cfg.model.prototype))
        gallery, gallery_labels = embed_loader(model, loader)
        dataset = loader.dataset
        gallery_paths = [osp.abspath(dataset.get_data_info(i)['img_path'])
                         for i in range(len(dataset))]
    position = {path: i for i, path in enumerate(gallery_paths)}
    own = [position.get(path, -1) for path in query_paths]
    scores, indices = cosine_topk(embed_paths(model, pipeline, query_paths), gallery,
                                  topk + 1)
    results = []
    for query_index, path in enumerate(query_paths):
        picked = [(int(i), float(s)) for s, i in zip(scores[query_index], indices[query_index])
                  if int(i) != own[query_index]][:topk]
        label = (int(gallery_labels[own[query_index]])
                 if gallery_labels is not None and own[query_index] >= 0 else None)
        results.append(dict(
            query=path, label=label,
            neighbours=[dict(path=gallery_paths[i], score=score,
                             label=None if gallery_labels is None else int(gallery_labels[i]))
                        for i, score in picked]))
    return dict(results=results)


def retrieve(config: str, checkpoint: str, queries: Sequence[str], topk: int,
             gallery_dir: Optional[str] = None, cfg_options: Optional[dict] = None) -> dict:
    """tools/retrieve.py: :func:`inference_retriever` with the trained retriever of
    ``config`` and ``checkpoint``."""
    model = build_retriever(load_config(config, cfg_options), checkpoint)
    return inference_retriever(model, queries, topk, gallery_dir)


RIGHT, WRONG, UNKNOWN, QUERY = (60, 180, 60), (40, 40, 220), (160, 160, 160), (200, 120, 0)


def _tile(path: str, size: int, colour, caption: str) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f'cannot read image {path!r}')
    scale = size / max(image.shape[:2])
    image = cv2.resize(image, (max(1, round(image.shape[1] * scale)),
                               max(1, round(image.shape[0] * scale))))
    tile = np.full((size + 22, size, 3), 255, np.uint8)
    top, left = (size - image.shape[0]) // 2, (size - image.shape[1]) // 2
    tile[top:top + image.shape[0], left:left + image.shape[1]] = image
    cv2.rectangle(tile, (1, 1), (size - 2, size - 2), colour, 3)
    cv2.putText(tile, caption, (3, size + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1,
                cv2.LINE_AA)
    return tile


def draw_retrieval_grid(results: dict, out: str, tile_size: int = 128) -> str:
    """One row per query: the query (blue frame), then its neighbours best first, framed
    green (same label), red (another label) or grey (labels unknown)."""
    rows = []
    width = 1 + max(len(r['neighbours']) for r in results['results'])
    for result in results['results']:
        tiles = [_tile(result['query'], tile_size, QUERY,
                       'query' if result['label'] is None else f'query id {result["label"]}')]
        for rank, item in enumerate(result['neighbours'], 1):
            known = result['label'] is not None and item['label'] is not None
            colour = (UNKNOWN if not known else
                      RIGHT if item['label'] == result['label'] else WRONG)
            tiles.append(_tile(item['path'], tile_size, colour,
                               f'#{rank} {item["score"]:.2f}' +
                               ('' if not known else ' ok' if colour == RIGHT else ' x')))
        tiles += [np.full_like(tiles[0], 255)] * (width - len(tiles))
        rows.append(np.concatenate([np.pad(t, ((4, 4), (4, 4), (0, 0)),
                                           constant_values=255) for t in tiles], axis=1))
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    if not cv2.imwrite(out, np.concatenate(rows, axis=0)):
        raise ValueError(f'cannot write {out!r} (use a .png or .jpg name)')
    return out
