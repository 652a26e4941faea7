"""utils.data's unpaired images (CycleGAN): the painterly filter, photos <-> paintings, the trainA/trainB folder
loader, and the monet2photo registration."""

import socket

import numpy as np
import pytest
import torch
from PIL import Image

from utils import data
from utils.data import download
from utils.data.download import DatasetUnavailableError


@pytest.fixture(scope="module")
def photos():
    """24 random 64 px crops (24, 3, 64, 64) of the bundled photos."""
    return data._photo_crops(64, 24, 11, data.PHOTOS)


@pytest.fixture(scope="module")
def paintings(photos):
    return data.painterly(photos, seed=0)


def distinct_colours(image: torch.Tensor) -> int:
    """The number of distinct 8-bit RGB colours of one image (3, H, W) in [-1, 1]."""
    return len(torch.unique(((image + 1) * 127.5).round().flatten(1).T, dim=0))


def gradient_energy(images: torch.Tensor) -> torch.Tensor:
    """Mean squared finite difference per image (N,), after a 1-px Gaussian blur so that the palette's one-pixel
    steps do not count as detail."""
    x = data._blur(images, 1.0)
    return ((x[..., 1:, :-1] - x[..., :-1, :-1]) ** 2 + (x[..., :-1, 1:] - x[..., :-1, :-1]) ** 2).mean((1, 2, 3))


def correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation per image (N,) of two image batches."""
    a = a.flatten(1) - a.flatten(1).mean(1, keepdim=True)
    b = b.flatten(1) - b.flatten(1).mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))


# --------------------------------------------------------------------------- painterly
def test_painterly_shape_range_and_determinism(photos, paintings):
    assert paintings.shape == photos.shape and paintings.dtype == torch.float32
    assert paintings.min() >= -1 and paintings.max() <= 1
    assert torch.equal(data.painterly(photos[:4], seed=0), data.painterly(photos[:4], seed=0))
    assert not torch.equal(data.painterly(photos[:4], seed=0), data.painterly(photos[:4], seed=1))  # brush texture
    small = data.painterly(data._photo_crops(8, 2, 0, ("coffee",)))
    assert small.shape == (2, 3, 8, 8)


def test_painterly_posterises_smooths_and_keeps_the_picture(photos, paintings):
    before = [distinct_colours(x) for x in photos]
    after = [distinct_colours(y) for y in paintings]
    assert max(after) <= data.PAINT_COLOURS < min(before)  # a palette of a few colours per image
    assert min(before) > 100
    # smoother: less gradient energy than the photos (brush streaks add some back; about 0.8 of it at 64 px) ...
    assert gradient_energy(paintings).mean() < 0.9 * gradient_energy(photos).mean()
    # ... and flat patches of paint: many neighbours share exactly one colour, which is rare in a photo
    same = lambda x: (x[..., 1:] == x[..., :-1]).all(1).float().mean()  # noqa: E731
    assert same(paintings) > 0.3 > 10 * same(photos)  # about 0.57 and 0.009
    # still the same picture: correlated with its own photo, not with another one
    own = correlation(paintings, photos)
    assert own.min() > 0.7 and own.mean() > 0.85
    assert correlation(paintings, photos.roll(1, dims=0)).abs().mean() < 0.5


def test_painterly_bad_input():
    with pytest.raises(TypeError, match="torch.Tensor"):
        data.painterly(np.zeros((2, 3, 16, 16)))
    with pytest.raises(ValueError, match="batch dimension"):
        data.painterly(torch.zeros(3, 16, 16))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        data.painterly(torch.zeros(2, 1, 16, 16))
    with pytest.raises(ValueError, match="H, W >= 8"):
        data.painterly(torch.zeros(2, 3, 4, 16))
    with pytest.raises(ValueError, match="N >= 1"):
        data.painterly(torch.zeros(0, 3, 16, 16))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        data.painterly(torch.full((1, 3, 16, 16), 3.0))


# --------------------------------------------------------------------------- photo_painting_domains
def test_photo_painting_domains_are_unpaired():
    a, b = data.photo_painting_domains(size=32, n=24, seed=0)
    assert a.shape == b.shape == (24, 3, 32, 32)
    assert a.min() >= -1 and a.max() <= 1 and b.min() >= -1 and b.max() <= 1
    a2, b2 = data.photo_painting_domains(size=32, n=24, seed=0)
    assert torch.equal(a, a2) and torch.equal(b, b2)
    a3, b3 = data.photo_painting_domains(size=32, n=24, seed=1)
    assert not torch.equal(a, a3) and not torch.equal(b, b3)
    assert max(distinct_colours(y) for y in b) <= data.PAINT_COLOURS < min(distinct_colours(x) for x in a)
    # domain B paints other crops: a painting is no closer to the photo of the same index than to any other photo
    assert not torch.equal(b, data.painterly(a, seed=0))
    same_index = correlation(a, b).mean()
    assert same_index < 0.5 and abs(same_index - correlation(a.roll(5, dims=0), b).mean()) < 0.2
    assert correlation(data.painterly(a, seed=0), a).mean() > 0.85  # whereas a painting of a itself would match


def test_photo_painting_domains_bad_input():
    with pytest.raises(ValueError, match="bundled photos"):
        data.photo_painting_domains(photos=("lena",))
    with pytest.raises(ValueError, match="positive int"):
        data.photo_painting_domains(n=0)
    with pytest.raises(ValueError, match="H, W >= 8"):
        data.photo_painting_domains(size=4, n=2)


# --------------------------------------------------------------------------- unpaired_folders
def write_image(path, colour, side: int = 12, **kwargs) -> None:
    """Save a plain ``side`` x ``side`` image of one RGB ``colour``."""
    Image.fromarray(np.zeros((side, side, 3), np.uint8) + np.array(colour, np.uint8)).save(path, **kwargs)


@pytest.fixture
def cyclegan_folder(tmp_path):
    """A tiny CycleGAN dataset: trainA three reddish images, trainB two bluish ones, testA/testB one each; files are
    written out of order, with a note that is not an image."""
    root = tmp_path / "toy2toy"
    for split in ("trainA", "trainB", "testA", "testB"):
        (root / split).mkdir(parents=True)
    for name, k in [("c.png", 2), ("a.jpg", 0), ("b.png", 1)]:  # a darkest, c brightest
        write_image(root / "trainA" / name, (200, 40 + 60 * k, 40), quality=95)
    for name, k in [("y.jpg", 1), ("x.png", 0)]:
        write_image(root / "trainB" / name, (40, 40 + 60 * k, 200), quality=95)
    write_image(root / "testA" / "t.png", (200, 40, 40))
    write_image(root / "testB" / "t.jpeg", (40, 40, 200), quality=95)
    (root / "trainA" / "notes.txt").write_text("not an image")
    return root


def test_unpaired_folders_reads_both_domains(cyclegan_folder):
    a, b = data.unpaired_folders(cyclegan_folder, size=8)
    assert a.shape == (3, 3, 8, 8) and b.shape == (2, 3, 8, 8)
    assert a.min() >= -1 and a.max() <= 1 and b.min() >= -1 and b.max() <= 1
    assert (a[:, 0] > a[:, 2] + 0.5).all() and (b[:, 2] > b[:, 0] + 0.5).all()  # A red, B blue
    green_a, green_b = a[:, 1].mean((1, 2)), b[:, 1].mean((1, 2))
    assert green_a[0] < green_a[1] < green_a[2] and green_b[0] < green_b[1]  # sorted by file name
    expected = (np.array([200, 40, 40]) / 255.0 * 2 - 1).astype(np.float32)
    stored_a, stored_b = data.unpaired_folders(cyclegan_folder, size=None)
    assert stored_a.shape == (3, 3, 12, 12) and stored_b.shape == (2, 3, 12, 12)
    test_a, test_b = data.unpaired_folders(str(cyclegan_folder), size=None, split="test")
    assert test_a.shape == test_b.shape == (1, 3, 12, 12)
    assert torch.allclose(test_a[0, :, 0, 0], torch.from_numpy(expected), atol=1e-6)  # png: exact colour


def test_unpaired_folders_errors(cyclegan_folder, tmp_path):
    with pytest.raises(ValueError, match="split"):
        data.unpaired_folders(cyclegan_folder, split="val")
    with pytest.raises(ValueError, match="positive int"):
        data.unpaired_folders(cyclegan_folder, size=0)
    with pytest.raises(FileNotFoundError, match="no folder .*missing"):
        data.unpaired_folders(tmp_path / "missing")
    (cyclegan_folder / "testB" / "t.jpeg").unlink()
    with pytest.raises(FileNotFoundError, match="testB holds no .* images"):
        data.unpaired_folders(cyclegan_folder, split="test")
    (cyclegan_folder / "testB").rmdir()
    with pytest.raises(FileNotFoundError, match="no folder .*testB"):
        data.unpaired_folders(cyclegan_folder, split="test")
    write_image(cyclegan_folder / "trainB" / "z.png", (0, 0, 0), side=10)
    with pytest.raises(ValueError, match="trainB differ in size"):
        data.unpaired_folders(cyclegan_folder, size=None)
    assert data.unpaired_folders(cyclegan_folder, size=6)[1].shape == (3, 3, 6, 6)  # resizing mends it


# --------------------------------------------------------------------------- monet2photo
def test_monet2photo_is_registered():
    ds = download.REGISTRY["monet2photo"]
    assert ds.url == "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/monet2photo.zip"
    assert ds.filename == "monet2photo.zip" and ds.extract
    assert ds.members == tuple(f"monet2photo/{s}/" for s in ("trainA", "trainB", "testA", "testB"))
    assert "utils.data.photo_painting_domains" in ds.offline_default
    assert "utils.data.typeset_digits" in download.REGISTRY["horse2zebra"].offline_default
    assert hasattr(data, "photo_painting_domains")  # the offline default exists


def test_monet2photo_offline_names_the_offline_default(tmp_path, monkeypatch):
    with socket.socket() as s:  # a loopback port that nothing listens on, as in tests/test_download.py
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "default-cache"))
    root = tmp_path / "cache"
    url = f"http://127.0.0.1:{port}/monet2photo.zip"
    with pytest.raises(DatasetUnavailableError) as err:
        download.fetch("monet2photo", root=root, url=url, progress=False)
    message = str(err.value)
    assert "utils.data.photo_painting_domains" in message and "offline" in message and url in message
    assert str(root / "monet2photo.zip") in message
    assert [p for p in root.rglob("*")] == []  # nothing cached
