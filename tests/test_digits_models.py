"""Notebook 04's pieces: DCGAN and conditional GAN models, the digit classifier and its metrics, the conditional
training step and image snapshots, and MNIST's idx files (read from local fixtures; no network)."""

import gzip
import struct

import numpy as np
import pytest
import torch
from torch import Tensor, nn

import utils
from utils import data, metrics, models, train
from utils.data import download
from utils.data.download import DatasetUnavailableError

CPU = torch.device("cpu")


# --------------------------------------------------------------------------- transposed convolutions and the DCGAN
@pytest.mark.parametrize(
    "size,kernel,stride,padding,output_padding",
    [(1, 4, 1, 0, 0), (4, 4, 2, 1, 0), (7, 4, 2, 1, 0), (3, 3, 2, 1, 1), (5, 5, 3, 2, 2), (2, 1, 1, 0, 0)],
)
def test_conv_transpose_output_size_matches_pytorch(size, kernel, stride, padding, output_padding):
    layer = nn.ConvTranspose2d(1, 1, kernel, stride, padding, output_padding)
    expected = layer(torch.zeros(1, 1, size, size)).shape[-1]
    assert models.conv_transpose_output_size(size, kernel, stride, padding, output_padding) == expected


@pytest.mark.parametrize("size", [8, 16, 28, 32])
def test_dcgan_shapes_and_range(size):
    utils.seed_everything(0, threads=1)
    G, D = models.dcgan_generator(z_dim=8, size=size, width=8), models.dcgan_discriminator(size=size, width=8)
    x = G(torch.randn(5, 8))
    assert x.shape == (5, 1, size, size) and x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (5, 1)
    assert models.dcgan_generator(z_dim=4, size=size, channels=3, width=8)(torch.randn(2, 4)).shape == (
        2,
        3,
        size,
        size,
    )


@pytest.mark.parametrize("size", [0, 4, 6, 9, 144])
def test_dcgan_rejects_sizes_it_cannot_build(size):
    with pytest.raises(ValueError, match="size"):
        models.dcgan_generator(size=size)


def test_dcgan_init_statistics():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.ConvTranspose2d(64, 32, 4),
        nn.BatchNorm2d(4096),
        nn.Conv2d(32, 64, 4),
        nn.Linear(256, 128),
        nn.Embedding(100, 100),
        nn.ReLU(),
    )
    model.apply(models.dcgan_init)
    for layer in (model[0], model[2], model[3], model[4]):
        assert abs(layer.weight.std().item() - 0.02) < 0.001 and abs(layer.weight.mean().item()) < 0.001
    for layer in (model[0], model[2], model[3], model[1]):
        assert torch.all(layer.bias == 0)
    assert abs(model[1].weight.mean().item() - 1) < 0.002 and abs(model[1].weight.std().item() - 0.02) < 0.002


# --------------------------------------------------------------------------- the conditional GAN
def test_conditional_input_is_z_then_one_hot():
    z = torch.randn(4, 3)
    out = models.conditional_input(z, torch.tensor([2, 0, 1, 2]), 5)
    assert out.shape == (4, 8) and torch.equal(out[:, :3], z)
    assert torch.equal(out[:, 3:], torch.eye(5)[[2, 0, 1, 2]])


def test_conditional_input_rejects_bad_labels():
    z = torch.randn(3, 2)
    with pytest.raises(ValueError, match="int64"):
        models.conditional_input(z, torch.tensor([0.0, 1.0, 2.0]), 3)
    with pytest.raises(ValueError, match="shape"):
        models.conditional_input(z, torch.tensor([0, 1]), 3)
    with pytest.raises(ValueError, match="0..2"):
        models.conditional_input(z, torch.tensor([0, 1, 3]), 3)
    with pytest.raises(TypeError, match="torch.Tensor"):
        models.conditional_input(z, [0, 1, 2], 3)


def test_conditional_models_use_the_label():
    utils.seed_everything(0, threads=1)
    G = models.ConditionalDCGANGenerator(z_dim=8, n_classes=10, size=16, width=8)
    D = models.ConditionalDCGANDiscriminator(n_classes=10, size=16, width=8)
    G.apply(models.dcgan_init)
    D.apply(models.dcgan_init)
    G.eval()
    z = torch.randn(1, 8).expand(10, 8)
    labels = torch.arange(10)
    x = G(z, labels)
    assert x.shape == (10, 1, 16, 16)
    assert (x[1:] - x[:1]).abs().amax(dim=(1, 2, 3)).min() > 0  # same noise, different label, different image
    logits = D(x[:1].expand(10, -1, -1, -1), labels)
    assert logits.shape == (10, 1) and logits.std() > 0  # same image, different label, different opinion
    with pytest.raises(ValueError, match="labels"):
        D(x, labels[:3])


def test_digit_classifier_features():
    clf = models.DigitClassifier(size=16, n_features=24)
    x = torch.zeros(3, 1, 16, 16)
    assert clf.features(x).shape == (3, 24) and clf(x).shape == (3, 10)


def test_cgan_step_updates_both_players_and_fits_train_gan(capsys):
    utils.seed_everything(0, threads=1)
    G = models.ConditionalDCGANGenerator(z_dim=8, size=16, width=8)
    D = models.ConditionalDCGANDiscriminator(size=16, width=8)
    g0, d0 = [p.clone() for p in G.parameters()], [p.clone() for p in D.parameters()]
    opt_g, opt_d = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    batch = data.batch_sampler(data.digits(size=16), torch.Generator().manual_seed(0))(16)
    ld, lg = train.cgan_step(G, D, opt_g, opt_d, batch, 8)
    assert ld.dim() == lg.dim() == 0 and not ld.requires_grad and not lg.requires_grad
    assert all(not torch.equal(a, b) for a, b in zip(g0, G.parameters()))
    assert all(not torch.equal(a, b) for a, b in zip(d0, D.parameters()))

    snaps = train.ImageSnapshots(torch.randn(6, 8), torch.arange(6))
    h = train.train_gan(
        G,
        D,
        data.batch_sampler(data.digits(size=16)),
        steps=4,
        z_dim=8,
        batch_size=8,
        step_fn=train.cgan_step,
        callback=snaps,
        callback_every=2,
        log_every=2,
        device=CPU,
    )
    assert h.step == [2, 4] and "4 steps in" in capsys.readouterr().out
    assert [f["step"] for f in snaps.frames] == [0, 2, 4]
    assert all(f["images"].shape == (6, 1, 16, 16) for f in snaps.frames)
    assert G.training  # snapshots put the generator back in training mode


def test_image_snapshots_of_an_unconditional_generator():
    G = models.dcgan_generator(z_dim=4, size=8, width=4)
    snaps = train.ImageSnapshots(torch.randn(3, 4))
    snaps(7, G, None)
    assert snaps.frames[0]["step"] == 7 and snaps.frames[0]["images"].shape == (3, 1, 8, 8)


# --------------------------------------------------------------------------- the classifier and its metrics
def test_train_classifier_learns_digits_in_seconds(capsys):
    utils.seed_everything(0, threads=1)
    train_set, test_set = data.digits(size=16, split="train"), data.digits(size=16, split="test")
    clf = models.DigitClassifier(size=16)
    losses_ = train.train_classifier(clf, train_set, epochs=3, device=CPU)
    assert len(losses_) == 3 and losses_[-1] < losses_[0]
    assert "(3 epochs): 69 steps in" in capsys.readouterr().out
    assert not clf.training
    acc = metrics.classifier_accuracy(clf, *test_set.tensors)
    assert acc > 0.8
    hist = metrics.class_histogram(clf, test_set.tensors[0])
    assert hist.shape == (10,) and hist.sum() == len(test_set) and hist.min() > 0


class Constant(nn.Module):
    """A stand-in classifier: features are the mean pixel and the pixel std; it always predicts class 3."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def features(self, x):
        return torch.stack([x.mean(dim=(1, 2, 3)), x.std(dim=(1, 2, 3))], dim=1)

    def forward(self, x):
        return torch.nn.functional.one_hot(torch.full((len(x),), 3), 10).float() + self.w


def test_classifier_metrics_on_a_known_classifier():
    x = torch.rand(50, 1, 8, 8) * 2 - 1
    clf = Constant()
    assert metrics.classify(clf, x).tolist() == [3] * 50
    assert metrics.classifier_accuracy(clf, x, torch.full((50,), 3)) == 1.0
    assert metrics.classifier_accuracy(clf, x, torch.zeros(50, dtype=torch.int64)) == 0.0
    assert metrics.class_histogram(clf, x).tolist() == [0, 0, 0, 50, 0, 0, 0, 0, 0, 0]
    assert metrics.classifier_fid(clf, x, x) == pytest.approx(0, abs=1e-6)
    assert metrics.classifier_fid(clf, x, x * 0.5) > 0.01
    with pytest.raises(ValueError, match="labels"):
        metrics.classifier_accuracy(clf, x, torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="\\[-1, 1\\]"):
        metrics.classify(clf, x * 3)


def test_histogram_kl():
    assert metrics.histogram_kl(torch.tensor([5, 5, 5, 5])) == pytest.approx(0)
    assert metrics.histogram_kl(torch.tensor([0, 9, 0, 0])) == pytest.approx(torch.log(torch.tensor(4.0)).item())
    assert 0 < metrics.histogram_kl(torch.tensor([1, 2, 3, 4])) < 0.2
    with pytest.raises(ValueError, match="positive"):
        metrics.histogram_kl(torch.zeros(3))


# --------------------------------------------------------------------------- data: batches and MNIST's idx files
def test_batch_sampler_shapes_and_reproducibility():
    ds = data.digits(size=8)
    a = data.batch_sampler(ds, torch.Generator().manual_seed(1))(5)
    b = data.batch_sampler(ds, torch.Generator().manual_seed(1))(5)
    assert a[0].shape == (5, 1, 8, 8) and a[1].shape == (5,) and torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert data.batch_sampler(ds, labels=False)(4).shape == (4, 1, 8, 8)
    with pytest.raises(TypeError, match="TensorDataset"):
        data.batch_sampler(ds.tensors)


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    """An idx file: 2 zero bytes, the dtype code, the number of dimensions, the sizes (big-endian), the data."""
    return bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def test_read_idx(tmp_path):
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    (tmp_path / "x.idx").write_bytes(idx_bytes(images, 0x08))
    (tmp_path / "x.idx.gz").write_bytes(gzip.compress(idx_bytes(images, 0x08)))
    assert np.array_equal(data.read_idx(tmp_path / "x.idx"), images)
    assert np.array_equal(data.read_idx(tmp_path / "x.idx.gz"), images)
    floats = np.linspace(-1, 1, 6).reshape(2, 3)
    (tmp_path / "f.idx").write_bytes(idx_bytes(floats.astype(">f8"), 0x0E))
    assert np.array_equal(data.read_idx(tmp_path / "f.idx"), floats)

    (tmp_path / "bad.idx").write_bytes(b"\x1f\x8b\x08\x00 not idx")
    with pytest.raises(ValueError, match="magic"):
        data.read_idx(tmp_path / "bad.idx")
    (tmp_path / "short.idx").write_bytes(idx_bytes(images, 0x08)[:-1])
    with pytest.raises(ValueError, match="bytes"):
        data.read_idx(tmp_path / "short.idx")


@pytest.fixture
def mnist_fixture(tmp_path, monkeypatch):
    """Tiny MNIST-like files served by file:// URLs through copies of the registry entries; yields (root, labels)."""
    import dataclasses

    monkeypatch.setattr(download, "REGISTRY", dict(download.REGISTRY))
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    for i in range(4):
        images[i, 4 * i : 4 * i + 4] = 255  # a bright band, lower for each image
    labels = np.array([3, 1, 4, 1], dtype=np.uint8)
    served = tmp_path / "served"
    served.mkdir()
    for name, array, code in (("mnist", images, 0x08), ("mnist_labels", labels, 0x08)):
        ds = download.REGISTRY[name]
        (served / ds.filename).write_bytes(gzip.compress(idx_bytes(array, code)))
        download.register(dataclasses.replace(ds, url=(served / ds.filename).as_uri()))
    return tmp_path / "cache", labels


def test_mnist_from_local_idx_files(mnist_fixture):
    root, labels = mnist_fixture
    ds = data.mnist(root=root)
    x, y = ds.tensors
    assert x.shape == (4, 1, 28, 28) and y.tolist() == labels.tolist() and y.dtype == torch.int64
    assert x.min() == -1 and x.max() == 1 and x[0, 0, 0].eq(1).all() and x[0, 0, 8].eq(-1).all()
    small = data.mnist(root=root, size=16).tensors[0]  # from the cache this time
    assert small.shape == (4, 1, 16, 16) and small.min() >= -1 and small.max() <= 1


def test_mnist_offline_names_the_digits(tmp_path, monkeypatch):
    import dataclasses
    import socket

    monkeypatch.setattr(download, "REGISTRY", dict(download.REGISTRY))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ds = download.REGISTRY["mnist"]
    download.register(dataclasses.replace(ds, url=f"http://127.0.0.1:{port}/{ds.filename}"))
    with pytest.raises(DatasetUnavailableError, match=r"digits\(size=28\)"):
        data.mnist(root=tmp_path)


def test_mnist_labels_are_registered():
    ds = download.REGISTRY["mnist_labels"]
    assert ds.url.endswith("train-labels-idx1-ubyte.gz") and not ds.extract
    assert "digits" in ds.offline_default


def test_cgan_step_gives_both_players_the_batch_labels():
    seen: dict[str, list[Tensor]] = {"G": [], "D": []}

    class SpyG(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(4, 3)

        def forward(self, z: Tensor, labels: Tensor) -> Tensor:
            seen["G"].append(labels)
            return self.lin(z) + labels.unsqueeze(1)

    class SpyD(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(3, 1)

        def forward(self, x: Tensor, labels: Tensor) -> Tensor:
            seen["D"].append(labels)
            return self.lin(x) * (1 + labels.unsqueeze(1))

    G, D = SpyG(), SpyD()
    labels = torch.tensor([2, 0, 1, 1])
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr=0.1), torch.optim.SGD(D.parameters(), lr=0.1)
    train.cgan_step(G, D, opt_g, opt_d, (torch.randn(4, 3), labels), 4)
    assert len(seen["G"]) == 1 and len(seen["D"]) == 3  # one fake batch; D sees real, fake (for D), fake (for G)
    assert all(torch.equal(s, labels) for s in seen["G"] + seen["D"])
