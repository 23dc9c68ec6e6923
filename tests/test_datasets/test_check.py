"""Reading every file of a dataset once: each kind of bad image is told apart."""
import cv2
import numpy as np
import pytest

from mmlow.datasets.check import find_bad_files, image_problem


@pytest.fixture
def jpeg(tmp_path):
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8), (5, 5), 0)
    path = tmp_path / 'image.jpg'
    cv2.imwrite(str(path), image)
    return path


def test_a_good_image_has_no_problem(jpeg):
    assert image_problem(str(jpeg)) is None
    assert image_problem(str(jpeg), (128, 96)) is None


def test_a_truncated_jpeg_is_found_although_imread_returns_its_top(jpeg):
    data = jpeg.read_bytes()
    jpeg.write_bytes(data[:len(data) // 2])
    # what a reader that opens files with cv2.imread sees: an image, grey below the cut
    assert cv2.imread(str(jpeg)) is not None
    assert 'cannot be decoded (truncated' in image_problem(str(jpeg))


@pytest.mark.parametrize('content, problem', [
    (None, 'does not exist'),
    (b'', 'is empty'),
    (b'\x89PNG not really' * 20, 'cannot be decoded'),
])
def test_missing_empty_and_undecodable_files(tmp_path, content, problem):
    path = tmp_path / 'bad.png'
    if content is not None:
        path.write_bytes(content)
    assert problem in image_problem(str(path))


def test_an_image_of_another_size_than_annotated(jpeg):
    assert image_problem(str(jpeg), (96, 128)) == 'is 128x96 but its annotations say 96x128'


def test_every_bad_file_is_listed_once_in_order(tmp_path, jpeg):
    (tmp_path / 'empty.png').write_bytes(b'')
    files = [(str(tmp_path / 'gone.png'), None), (str(jpeg), None),
             (str(tmp_path / 'empty.png'), None), (str(tmp_path / 'gone.png'), None)]
    calls = []
    bad = find_bad_files(files, workers=2, progress=lambda: calls.append(1))
    assert [path for path, _ in bad] == [str(tmp_path / 'gone.png'),
                                         str(tmp_path / 'empty.png')]
    assert len(calls) == 3  # each distinct file read once
