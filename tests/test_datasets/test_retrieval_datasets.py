"""Retrieval readers on tiny fake folders in the released layouts, and on broken ones."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmlow.datasets import (CUBRetrieval, InShopRetrieval, RetrievalDataMissingError,
                            ShapesRetrieval, StanfordOnlineProducts)
from mmlow.datasets.shapes_retrieval import (SHAPES, SIZE_RANGE, TEXTURES, identities,
                                             render_view)


def write_image(path):
    os.makedirs(osp.dirname(path), exist_ok=True)
    cv2.imwrite(path, np.full((8, 8, 3), 128, np.uint8))


def write_lines(path, lines):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def labels_and_names(dataset):
    return [(osp.relpath(d['img_path'], dataset.data_root), d['gt_label'])
            for d in (dataset.get_data_info(i) for i in range(len(dataset)))]


@pytest.fixture
def cub(tmp_path):
    root = str(tmp_path / 'CUB_200_2011')
    # class 1, 100 (train), 101, 200 (test); image ids out of order on purpose
    images = [(3, '001.Black_footed_Albatross/a.jpg', 1),
              (1, '100.Brown_Pelican/b.jpg', 100),
              (2, '101.White_Pelican/c.jpg', 101),
              (4, '200.Common_Yellowthroat/d.jpg', 200)]
    write_lines(osp.join(root, 'images.txt'), [f'{i} {p}' for i, p, _ in images])
    write_lines(osp.join(root, 'image_class_labels.txt'), [f'{i} {c}' for i, _, c in images])
    for _, path, _ in images:
        write_image(osp.join(root, 'images', path))
    return root


def test_cub_splits_by_class(cub):
    assert labels_and_names(CUBRetrieval(cub, 'train')) == [
        ('images/001.Black_footed_Albatross/a.jpg', 0), ('images/100.Brown_Pelican/b.jpg', 99)]
    assert labels_and_names(CUBRetrieval(cub, 'test')) == [
        ('images/101.White_Pelican/c.jpg', 100), ('images/200.Common_Yellowthroat/d.jpg', 199)]


def test_cub_missing_list_file_is_named(cub):
    os.remove(osp.join(cub, 'image_class_labels.txt'))
    with pytest.raises(RetrievalDataMissingError, match='image_class_labels.txt'):
        CUBRetrieval(cub, 'train')


def test_cub_missing_listed_image_is_named(cub):
    os.remove(osp.join(cub, 'images', '101.White_Pelican/c.jpg'))
    with pytest.raises(RetrievalDataMissingError, match=r'1 of the 2 images(.|\n)*c\.jpg'):
        CUBRetrieval(cub, 'test')
    assert len(CUBRetrieval(cub, 'train')) == 2  # the other split is complete


def test_missing_dataset_folder_and_bad_split(tmp_path):
    with pytest.raises(RetrievalDataMissingError, match='dataset folder(.|\n)*images.txt'):
        CUBRetrieval(str(tmp_path / 'nowhere'), 'train')
    with pytest.raises(ValueError, match="split must be one of"):
        CUBRetrieval(str(tmp_path), 'val')


@pytest.fixture
def sop(tmp_path):
    root = str(tmp_path / 'Stanford_Online_Products')
    header = 'image_id class_id super_class_id path'
    write_lines(osp.join(root, 'Ebay_train.txt'), [
        header, '1 1 1 bicycle_final/111085122871_0.JPG',
        '2 1 1 bicycle_final/111085122871_1.JPG', '3 2 2 cabinet_final/1_0.JPG'])
    write_lines(osp.join(root, 'Ebay_test.txt'), [
        header, '1 11319 1 bicycle_final/251952414262_0.JPG',
        '2 11319 1 bicycle_final/251952414262_1.JPG'])
    for name in ('Ebay_train.txt', 'Ebay_test.txt'):
        with open(osp.join(root, name)) as f:
            for line in f.read().split('\n')[1:]:
                if line:
                    write_image(osp.join(root, line.split()[3]))
    return root


def test_sop_reads_both_splits(sop):
    assert labels_and_names(StanfordOnlineProducts(sop, 'train')) == [
        ('bicycle_final/111085122871_0.JPG', 0), ('bicycle_final/111085122871_1.JPG', 0),
        ('cabinet_final/1_0.JPG', 1)]
    assert [label for _, label in labels_and_names(StanfordOnlineProducts(sop, 'test'))] == [
        11318, 11318]


def test_sop_broken_files(sop):
    os.remove(osp.join(sop, 'bicycle_final/251952414262_1.JPG'))
    with pytest.raises(RetrievalDataMissingError, match='251952414262_1.JPG'):
        StanfordOnlineProducts(sop, 'test')
    write_lines(osp.join(sop, 'Ebay_train.txt'), ['1 1 1 bicycle_final/111085122871_0.JPG'])
    with pytest.raises(ValueError, match='header'):
        StanfordOnlineProducts(sop, 'train')
    os.remove(osp.join(sop, 'Ebay_train.txt'))
    with pytest.raises(RetrievalDataMissingError, match='Ebay_train.txt'):
        StanfordOnlineProducts(sop, 'train')


@pytest.fixture
def inshop(tmp_path):
    root = str(tmp_path / 'inshop')
    entries = [('img/WOMEN/Dresses/id_00000002/02_1_front.jpg', 'id_00000002', 'train'),
               ('img/MEN/Denim/id_00000080/01_1_front.jpg', 'id_00000080', 'train'),
               ('img/WOMEN/Dresses/id_00000002/02_2_side.jpg', 'id_00000002', 'train'),
               ('img/WOMEN/Skirts/id_00000007/01_1_front.jpg', 'id_00000007', 'query'),
               ('img/WOMEN/Skirts/id_00000007/01_2_side.jpg', 'id_00000007', 'gallery'),
               ('img/MEN/Tees/id_00000011/01_1_front.jpg', 'id_00000011', 'gallery')]
    write_lines(osp.join(root, 'Eval', 'list_eval_partition.txt'),
                [str(len(entries)), 'image_name item_id evaluation_status'] +
                [' '.join(e) for e in entries])
    for name, _, _ in entries:
        write_image(osp.join(root, 'Img', name))
    return root


def test_inshop_partitions(inshop):
    assert labels_and_names(InShopRetrieval(inshop, 'train')) == [
        ('Img/img/WOMEN/Dresses/id_00000002/02_1_front.jpg', 0),
        ('Img/img/MEN/Denim/id_00000080/01_1_front.jpg', 1),
        ('Img/img/WOMEN/Dresses/id_00000002/02_2_side.jpg', 0)]
    query = labels_and_names(InShopRetrieval(inshop, 'query'))
    gallery = labels_and_names(InShopRetrieval(inshop, 'gallery'))
    assert [label for _, label in query] == [7]
    assert [label for _, label in gallery] == [7, 11]  # a query shares its item's label


def test_inshop_broken(inshop):
    partition = osp.join(inshop, 'Eval', 'list_eval_partition.txt')
    with open(partition) as f:
        lines = f.read().splitlines()
    write_lines(partition, lines[:-1])  # truncated: the count no longer matches
    with pytest.raises(ValueError, match='announces 6 images but lists 5'):
        InShopRetrieval(inshop, 'train')
    os.remove(osp.join(inshop, 'Img', 'img/MEN/Tees/id_00000011/01_1_front.jpg'))
    write_lines(partition, lines)
    with pytest.raises(RetrievalDataMissingError, match='id_00000011/01_1_front.jpg'):
        InShopRetrieval(inshop, 'gallery')
    write_lines(partition, lines[:2] + ['img/x.jpg id_00000001 validation'])
    with pytest.raises(ValueError, match='line 3'):
        InShopRetrieval(inshop, 'train')


def test_shapes_retrieval_split_is_open_set_and_deterministic(tmp_path):
    generator = dict(num_train_identities=3, num_test_identities=2, views=2, img_size=(24, 24))
    train = ShapesRetrieval(str(tmp_path / 'a'), 'train', generator=generator)
    test = ShapesRetrieval(str(tmp_path / 'a'), 'test', generator=generator)
    train_labels = {label for _, label in labels_and_names(train)}
    test_labels = {label for _, label in labels_and_names(test)}
    assert train_labels == {0, 1, 2} and test_labels == {3, 4}
    assert len(train) == 6 and len(test) == 4
    again = ShapesRetrieval(str(tmp_path / 'b'), 'test', generator=generator)
    for name, _ in labels_and_names(test):
        with open(osp.join(tmp_path, 'a', name), 'rb') as f, \
                open(osp.join(tmp_path, 'b', name), 'rb') as g:
            assert f.read() == g.read()
    # identities differ from each other; views of one identity differ from each other
    assert len(set(identities(300, 0))) == 300
    with pytest.raises(RuntimeError, match='made with'):
        ShapesRetrieval(str(tmp_path / 'a'), 'test', generator=dict(generator, views=3))


class _TurnedRng:
    """A generator whose draw of the object's angle comes out ``turn`` radians further."""

    def __init__(self, seed, turn):
        self._rng, self._turn, self._next_is_angle = np.random.default_rng(seed), turn, False

    def uniform(self, low=0.0, high=1.0, size=None):
        value = self._rng.uniform(low, high, size)
        if self._next_is_angle:  # render_view draws the angle right after the size
            value += self._turn
        self._next_is_angle = (low, high) == SIZE_RANGE
        return value

    def __getattr__(self, name):
        return getattr(self._rng, name)


@pytest.mark.parametrize('texture, turn', [('stripes', np.pi), ('checker', np.pi / 2)])
def test_colour_swapped_twins_are_the_same_object_turned(texture, turn):
    """Why the split keeps one identity of each such pair: body A / pattern B turned by
    ``turn`` draws body B / pattern A (a circle, so the outline does not turn)."""
    circle, kind = SHAPES.index('circle'), TEXTURES.index(texture)
    for seed in range(3):
        swapped = render_view(np.random.default_rng(seed), (circle, 5, kind, 2), (64, 64))
        turned = render_view(_TurnedRng(seed, turn), (circle, 2, kind, 5), (64, 64))
        other = render_view(_TurnedRng(seed, turn), (circle, 2, kind, 6), (64, 64))
        differs = lambda a, b: (np.abs(a.astype(int) - b).max(-1) > 8).mean()  # noqa: E731
        assert differs(swapped, turned) < 0.01 < 0.1 < differs(swapped, other)
    # per shape: 8 solid, 28 stripes and 28 checker colour pairs, 56 ordered dots pairs
    total = len(SHAPES) * (8 + 28 + 28 + 56)
    kept = set(identities(total, 0))
    assert len(kept) == total
    with pytest.raises(ValueError, match=f'at most {total} identities'):
        identities(total + 1, 0)
    for shape, body, texture_index, pattern in kept:
        if TEXTURES[texture_index] in ('stripes', 'checker'):
            assert (shape, pattern, texture_index, body) not in kept
