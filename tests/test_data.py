import math

import numpy as np
import pytest
import torch

from utils import data


def test_ring_modes_evenly_spaced_without_duplicates():
    mix = data.ring()
    assert mix.modes.shape == (8, 2) and mix.std == 0.01
    assert torch.allclose(mix.modes.norm(dim=1), torch.ones(8), atol=1e-6)
    d = torch.cdist(mix.modes, mix.modes) + torch.eye(8) * 10
    assert d.min() > 0.76  # neighbours are 2 sin(pi/8) = 0.765 apart; a duplicated mode would give 0
    angles = torch.atan2(mix.modes[:, 1], mix.modes[:, 0]) % (2 * math.pi)
    assert torch.allclose(angles.sort().values, torch.arange(8) * 2 * math.pi / 8, atol=1e-5)


def test_grid_modes():
    mix = data.grid()
    assert mix.modes.shape == (25, 2) and mix.std == 0.05
    assert sorted(set(mix.modes[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert len({tuple(m) for m in mix.modes.tolist()}) == 25


@pytest.mark.parametrize("mix", [data.ring(), data.grid(), data.ring(n_modes=5, radius=2.0, std=0.1)])
def test_sample_labels_and_spread(mix):
    x, y = mix.sample(20000, torch.Generator().manual_seed(0))
    assert x.shape == (20000, 2) and y.shape == (20000,) and y.dtype == torch.int64
    offsets = x - mix.modes[y]
    assert abs(offsets.std().item() - mix.std) < 0.05 * mix.std
    counts = torch.bincount(y, minlength=mix.n_modes).float()
    assert counts.min() > 0.8 * counts.mean()


def test_sampling_is_reproducible_and_sampler_shape():
    mix = data.ring()
    a = mix.sample(10, torch.Generator().manual_seed(3))[0]
    b = mix.sample(10, torch.Generator().manual_seed(3))[0]
    assert torch.equal(a, b)
    assert mix.sampler(torch.Generator().manual_seed(0))(7).shape == (7, 2)


def test_mixture_bad_input():
    with pytest.raises(ValueError, match="positive int"):
        data.ring().sample(0)
    with pytest.raises(ValueError, match="positive int"):
        data.ring(n_modes=-1)


@pytest.mark.parametrize("size", [8, 16, 28])
def test_digits(size):
    ds = data.digits(size=size)
    x, y = ds.tensors
    assert x.shape == (1797, 1, size, size) and y.shape == (1797,)
    assert x.min() >= -1 and x.max() <= 1 and x.min() < -0.99 and x.max() > 0.99
    assert set(y.tolist()) == set(range(10))


def test_digits_split_is_disjoint_stratified_and_fixed():
    train, test = data.digits(split="train"), data.digits(split="test")
    assert len(train) + len(test) == 1797
    assert abs(len(test) - 0.2 * 1797) < 10
    assert torch.equal(data.digits(split="test").tensors[0], test.tensors[0])
    counts = torch.bincount(test.tensors[1], minlength=10)
    assert counts.min() >= 34
    flat_train = {tuple(r) for r in train.tensors[0].flatten(1).tolist()}
    overlap = sum(tuple(r) in flat_train for r in test.tensors[0].flatten(1).tolist())
    assert overlap < 5  # the 8x8 digits contain a handful of exact duplicates, nothing more
    with pytest.raises(ValueError, match="split"):
        data.digits(split="val")


@pytest.mark.parametrize("name", data.PHOTOS + data.TEXTURES)
def test_bundled_images(name):
    x = data.bundled_image(name)
    assert x.dim() == 3 and x.shape[0] == (1 if name in data.TEXTURES else 3)
    assert x.min() >= -1 and x.max() <= 1
    small = data.bundled_image(name, size=32)
    assert small.shape[1:] == (32, 32)


def test_bundled_image_grey_and_errors():
    assert data.bundled_image("astronaut", size=16, grey=True).shape == (1, 16, 16)
    assert data.bundled_image("coffee", size=(20, 30)).shape == (3, 20, 30)
    with pytest.raises(ValueError, match="unknown bundled image"):
        data.bundled_image("lena")


def test_faces():
    x, y = data.faces().tensors
    assert x.shape == (200, 1, 25, 25) and y.sum() == 100
    assert x.min() >= -1 and x.max() <= 1


def test_to_tensor_image_and_resize_errors():
    img = np.zeros((4, 5, 3), dtype=np.uint8)
    assert data.to_tensor_image(img).shape == (3, 4, 5)
    assert data.to_tensor_image(img).min() == -1
    with pytest.raises(ValueError, match="\\[0, 1\\]"):
        data.to_tensor_image(np.full((2, 2), 3.0))
    with pytest.raises(ValueError, match="shape"):
        data.to_tensor_image(np.zeros((2, 2, 2, 2)))
    with pytest.raises(TypeError):
        data.to_tensor_image([[0, 1]])
    with pytest.raises(ValueError, match="\\(C, H, W\\)"):
        data.resize(torch.zeros(4, 4), 8)
