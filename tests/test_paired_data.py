"""utils.data's paired images: edges -> photo and grey -> colour crops, and the pix2pix A|B side-by-side loader."""

import numpy as np
import pytest
import torch
from PIL import Image

from utils import data
from utils.data import facades


def test_edges_to_photo_pairs():
    two = ("coffee", "rocket")
    edges, photos = data.edges_to_photo_pairs(size=32, n=12, seed=0, photos=two).tensors
    assert edges.shape == (12, 1, 32, 32) and photos.shape == (12, 3, 32, 32)
    assert set(edges.unique().tolist()) <= {-1.0, 1.0}  # black edges on white
    assert 0.02 < (edges < 0).float().mean() < 0.4
    assert photos.min() >= -1 and photos.max() <= 1
    assert torch.equal(edges, data.edges_to_photo_pairs(size=32, n=12, seed=0, photos=two).tensors[0])
    assert not torch.equal(photos, data.edges_to_photo_pairs(size=32, n=12, seed=1, photos=two).tensors[1])

    def edge_contrast(edges, photos):
        """Mean photo gradient on edge pixels minus off them: high when the edges belong to the photos."""
        grey = photos.mean(1)
        grad = torch.zeros_like(grey)
        grad[:, 1:-1, 1:-1] = (grey[:, 1:-1, 2:] - grey[:, 1:-1, :-2]).abs() + (
            grey[:, 2:, 1:-1] - grey[:, :-2, 1:-1]
        ).abs()
        on = edges[:, 0] < 0
        return float(grad[on].mean() - grad[~on].mean())

    assert edge_contrast(edges, photos) > 2 * abs(edge_contrast(edges, photos.roll(1, dims=0)))


def test_gray_to_colour_pairs_and_photo_choice():
    grey, colour = data.grey_to_colour_pairs(size=24, n=5, seed=2, photos=("coffee",)).tensors
    assert grey.shape == (5, 1, 24, 24) and colour.shape == (5, 3, 24, 24)
    luminance = 0.299 * colour[:, 0] + 0.587 * colour[:, 1] + 0.114 * colour[:, 2]
    assert torch.allclose(grey[:, 0], luminance)
    assert torch.equal(colour, data.grey_to_colour_pairs(size=24, n=5, seed=2, photos=("coffee",)).tensors[1])
    with pytest.raises(ValueError, match="bundled photos"):
        data.grey_to_colour_pairs(photos=("lena",))
    with pytest.raises(ValueError, match="positive int"):
        data.edges_to_photo_pairs(size=0)


def write_pair(path, left: np.ndarray, right: np.ndarray, **kwargs) -> None:
    """Save an A|B image: ``left`` and ``right`` (H, W, 3) uint8 side by side."""
    Image.fromarray(np.concatenate([left, right], axis=1)).save(path, **kwargs)


@pytest.fixture
def ab_folder(tmp_path):
    """Three 20x40 A|B jpgs: A is a plain reddish square, B a plain bluish one, brightness growing with the name."""
    for name, k in [("c.jpg", 2), ("a.jpg", 0), ("b.jpg", 1)]:  # written out of order: a darkest, c brightest
        a = np.zeros((20, 20, 3), np.uint8) + np.array([200, 40 + 40 * k, 40], np.uint8)
        b = np.zeros((20, 20, 3), np.uint8) + np.array([40, 40 + 40 * k, 200], np.uint8)
        write_pair(tmp_path / name, a, b, quality=95)
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def test_aligned_pairs_reads_a_left_and_b_right(ab_folder):
    a, b = data.aligned_pairs(ab_folder, size=16).tensors
    assert a.shape == b.shape == (3, 3, 16, 16)
    inner = (slice(None), slice(None), slice(2, -2), slice(2, -2))  # jpeg blurs colour across the A|B seam
    a_in, b_in = a[inner], b[inner]
    assert (a_in[:, 0] > a_in[:, 2] + 1).all() and (b_in[:, 2] > b_in[:, 0] + 1).all()  # A red, B blue
    green = a[:, 1].mean((1, 2))
    assert green[0] < green[1] < green[2]  # sorted by file name
    b2, a2 = data.aligned_pairs(ab_folder, size=16, direction="BtoA").tensors
    assert torch.equal(a2, a) and torch.equal(b2, b)
    stored = data.aligned_pairs(ab_folder, size=None).tensors[0]
    assert stored.shape == (3, 3, 20, 20)


def test_aligned_pairs_round_trips_facades_labels(tmp_path):
    """Real facades store the photo as A and the label image as B: BtoA plus decolourise gives the class ids back."""
    images, photos, labels = facades.facades_pairs(2, size=64, seed=5).tensors
    to_uint8 = lambda x: ((x.permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()  # noqa: E731
    for i in range(2):
        write_pair(tmp_path / f"{i}.png", to_uint8(photos[i]), to_uint8(images[i]))
    label_images, loaded_photos = data.aligned_pairs(tmp_path, size=None, direction="BtoA").tensors
    assert torch.equal(facades.decolourise(label_images), labels)
    assert (loaded_photos - photos).abs().max() < 0.01


def test_aligned_pairs_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no folder"):
        data.aligned_pairs(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no .* images"):
        data.aligned_pairs(tmp_path)
    Image.fromarray(np.zeros((8, 15, 3), np.uint8)).save(tmp_path / "odd.png")
    with pytest.raises(ValueError, match="odd.png.*odd width"):
        data.aligned_pairs(tmp_path)
    (tmp_path / "odd.png").unlink()
    write_pair(tmp_path / "x.png", np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8))
    write_pair(tmp_path / "y.png", np.zeros((6, 6, 3), np.uint8), np.zeros((6, 6, 3), np.uint8))
    with pytest.raises(ValueError, match="differ in size"):
        data.aligned_pairs(tmp_path, size=None)
    assert data.aligned_pairs(tmp_path, size=4).tensors[0].shape == (2, 3, 4, 4)
    with pytest.raises(ValueError, match="direction"):
        data.aligned_pairs(tmp_path, direction="AB")
