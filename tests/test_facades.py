"""utils.data.facades: the procedural CMP-style facades (label maps, photos, label images, perspective jitter)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from utils.data import download, facades
from utils.data.facades import BACKGROUND, FACADE, WINDOW


@pytest.fixture(scope="module")
def pairs():
    return facades.facades_pairs(48, size=64, seed=0)


@pytest.mark.parametrize("size", [32, 64, 128, 256])
def test_label_map_and_render_shapes_ranges_and_seeds(size):
    labels = facades.label_map(size, seed=3)
    assert labels.shape == (size, size) and labels.dtype == torch.int64
    assert 0 <= int(labels.min()) and int(labels.max()) < facades.N_CLASSES
    assert torch.equal(labels, facades.label_map(size, seed=3))
    assert not torch.equal(labels, facades.label_map(size, seed=4))
    photo = facades.render(labels, seed=3)
    assert photo.shape == (3, size, size) and photo.dtype == torch.float32
    assert photo.min() >= -1 and photo.max() <= 1 and photo.std() > 0.1
    assert torch.equal(photo, facades.render(labels, seed=3))
    assert not torch.equal(photo, facades.render(labels, seed=4))


def test_facades_pairs_shapes_determinism_and_independence_of_n(pairs):
    images, photos, labels = pairs.tensors
    assert images.shape == photos.shape == (48, 3, 64, 64) and labels.shape == (48, 64, 64)
    assert labels.dtype == torch.int64 and images.min() >= -1 and photos.max() <= 1
    assert torch.equal(images, facades.colourise(labels))
    small = facades.facades_pairs(3, size=64, seed=0).tensors
    assert all(torch.equal(a[:3], b) for a, b in zip(pairs.tensors, small))  # pair i depends on (seed, i) only
    other = facades.facades_pairs(3, size=64, seed=1).tensors
    assert not torch.equal(other[1], small[1])


def test_every_class_appears_across_a_few_hundred_maps():
    counts = np.zeros(facades.N_CLASSES, dtype=np.int64)
    for seed in range(300):
        counts += np.bincount(facades.label_map(64, seed=seed).flatten().numpy(), minlength=facades.N_CLASSES) > 0
    assert (counts >= 20).all(), dict(zip(facades.CLASSES, counts.tolist()))
    assert counts[FACADE] == 300 and counts[WINDOW] == 300


def test_every_class_survives_the_perspective_jitter(pairs):
    present = torch.bincount(pairs.tensors[2].flatten(), minlength=facades.N_CLASSES)
    assert (present > 0).all(), dict(zip(facades.CLASSES, present.tolist()))


def class_means(photos, labels):
    """Mean RGB (12, 3) of the photo pixels of each class (NaN for an absent class)."""
    pixels = photos.permute(0, 2, 3, 1).reshape(-1, 3)
    flat = labels.flatten()
    sums = torch.zeros(facades.N_CLASSES, 3).index_add_(0, flat, pixels)
    return sums / torch.bincount(flat, minlength=facades.N_CLASSES).unsqueeze(1)


def looks_like_facades(photos, labels) -> bool:
    """Windows darker and bluer than the wall, sky bluer and brighter than windows, doors darker than the wall."""
    m = class_means(photos, labels)
    lum = m.mean(1)
    blue = m[:, 2] - m[:, 0]
    return bool(
        lum[WINDOW] < lum[FACADE] - 0.2
        and blue[WINDOW] > blue[FACADE] + 0.05
        and blue[BACKGROUND] > blue[FACADE] + 0.1
        and lum[BACKGROUND] > lum[WINDOW] + 0.3
        and lum[facades.DOOR] < lum[FACADE] - 0.3
    )


def test_photo_statistics_follow_the_labels(pairs):
    _, photos, labels = pairs.tensors
    assert looks_like_facades(photos, labels), class_means(photos, labels)
    # a renderer that ignores its labels fails: photos of other label maps, or one photo for every map
    assert not looks_like_facades(photos.roll(1, dims=0), labels)
    assert not looks_like_facades(photos[:1].expand_as(photos), labels)
    assert not looks_like_facades(photos.flip(-2), labels)  # upside down


def test_perspective_moves_labels_and_photos_together():
    labels = torch.stack([facades.label_map(64, seed=s) for s in range(4)])
    images = facades.colourise(labels)
    warped_labels, warped_images = facades.perspective(labels, images, seed=0)
    assert warped_labels.shape == labels.shape and warped_images.shape == images.shape
    assert not torch.equal(warped_labels, labels)  # it does move them
    # away from class borders (where bilinear blends colours) the warped image shows the warped labels' colours
    lab = warped_labels.unsqueeze(1).float()
    inside = (F.max_pool2d(lab, 3, 1, 1) == -F.max_pool2d(-lab, 3, 1, 1))[:, 0]
    assert inside.float().mean() > 0.5
    same = facades.decolourise(warped_images) == warped_labels
    assert same[inside].float().mean() > 0.99, same[inside].float().mean()
    assert (facades.decolourise(warped_images) == labels)[inside].float().mean() < 0.9  # unwarped labels do not fit
    assert (facades.decolourise(images) == labels).all()


def test_colorize_and_decolorize_round_trip():
    labels = torch.arange(12).view(3, 4)
    image = facades.colourise(labels)
    assert image.shape == (3, 3, 4) and image.min() >= -1 and image.max() <= 1
    assert len({tuple(c) for c in image.flatten(1).T.tolist()}) == 12  # one colour per class
    assert torch.equal(facades.decolourise(image), labels)
    assert len(facades.COLOURS) == len(facades.CLASSES) == 12


def test_bad_input():
    for size in (16, 63.5, "64", True, 4096):
        with pytest.raises(ValueError, match="size"):
            facades.label_map(size)
    with pytest.raises(ValueError, match="size"):
        facades.facades_pairs(2, size=8)
    with pytest.raises(ValueError, match="positive int"):
        facades.facades_pairs(0)
    with pytest.raises(ValueError, match="seed"):
        facades.label_map(64, seed=-1)
    with pytest.raises(TypeError, match="seed"):
        facades.facades_pairs(2, seed=1.5)
    with pytest.raises(ValueError, match="integer"):
        facades.render(torch.zeros(64, 64))
    with pytest.raises(ValueError, match="class ids"):
        facades.render(torch.full((64, 64), 12))
    with pytest.raises(ValueError, match="square"):
        facades.render(torch.zeros(64, 48, dtype=torch.int64))
    with pytest.raises(ValueError, match="one label map"):
        facades.render(torch.zeros(2, 64, 64, dtype=torch.int64))
    with pytest.raises(TypeError):
        facades.colourise(np.zeros((4, 4), dtype=np.int64))
    with pytest.raises(ValueError, match="must match"):
        facades.perspective(torch.zeros(2, 8, 8, dtype=torch.int64), torch.zeros(3, 3, 8, 8))


def test_facades_download_names_this_offline_default():
    assert "utils.data.facades.facades_pairs" in download.REGISTRY["facades"].offline_default
