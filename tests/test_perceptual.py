"""utils.perceptual: the VGG loss network (names, truncation, frozen, normalisation, weights offline) and the losses."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from utils import data
from utils import perceptual as P
from utils.data import vgg_weights


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def hub_in_tmp(tmp_path, monkeypatch) -> Path:
    """Point torch hub's cache into tmp_path: nothing touches the real ~/.cache/torch."""
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    return tmp_path / "hub"


@pytest.fixture
def offline(monkeypatch):
    """A fake network that is always down: every urlopen raises URLError."""

    def down(url, timeout=None):
        raise urllib.error.URLError("fake network: offline")

    monkeypatch.setattr(urllib.request, "urlopen", down)


def fixture_weights(
    folder: Path,
    arch: str = "vgg16",
    n_modules: int = 9,
    seed: int = 1,
    name: str | None = None,
    torchvision_keys: bool = True,
) -> Path:
    """Save a small VGG state dict (the first ``n_modules`` of features, random) as a torchvision-like .pth file."""
    features = P.init_random(P._make_features(arch, n_modules), seed=seed)
    state = features.state_dict()
    if torchvision_keys:  # like torchvision's file: features.N.* plus a classifier the loss network ignores
        state = {f"features.{k}": v for k, v in state.items()} | {"classifier.0.weight": torch.zeros(2, 3)}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or "weights.pth")
    torch.save(state, path)
    return path


def hub_named(path: Path, arch: str = "vgg16") -> Path:
    """Rename a weights file the torch hub way, with the first 8 hex digits of its sha256: vgg16-1a2b3c4d.pth."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    return path.rename(path.with_name(f"{arch}-{digest}.pth"))


def same_params(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# --------------------------------------------------------------------------- layer names and truncation
@pytest.mark.parametrize("arch, builder", [("vgg16", torchvision.models.vgg16), ("vgg19", torchvision.models.vgg19)])
def test_layer_names_follow_torchvisions_layer_list(arch, builder):
    with torch.device("meta"):
        tv = builder(weights=None).features
    names = P.layer_names(arch)
    assert len(names) == len(tv)
    kinds = {"conv": nn.Conv2d, "relu": nn.ReLU, "pool": nn.MaxPool2d}
    for name, module in zip(names, tv):
        assert isinstance(module, kinds[name[:4]]), (name, module)
    ours = P._make_features(arch, len(tv))
    for a, b in zip(ours, tv):
        assert type(a) is type(b)
        if isinstance(a, nn.Conv2d):
            assert a.weight.shape == b.weight.shape and a.padding == b.padding
    assert names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert names.index("relu2_2") == 8
    if arch == "vgg16":
        assert (
            names.index("relu3_3") == 15
            and names.index("conv4_2") == 19
            and names.index("relu4_3") == 22
            and names[-2] == "relu5_3"
        )
        assert len(names) == 31
    else:
        assert (
            names.index("relu3_4") == 17
            and names.index("conv4_2") == 21
            and names.index("relu4_4") == 26
            and names[-2] == "relu5_4"
        )
        assert len(names) == 37


def test_unknown_layer_or_arch_is_refused_with_the_valid_names():
    with pytest.raises(ValueError) as err:
        P.vgg_features("vgg16", ("relu3_4",), weights="random")  # exists in VGG19 only
    assert "relu3_4" in str(err.value) and "relu3_3" in str(err.value) and "conv1_1" in str(err.value)
    with pytest.raises(ValueError, match="vgg16"):
        P.vgg_features("vgg11", ("relu1_1",), weights="random")
    with pytest.raises(ValueError, match="at least one"):
        P.vgg_features("vgg16", (), weights="random")


def test_the_deepest_layer_decides_how_many_modules_run():
    net = P.vgg_features("vgg16", ("relu2_2", "relu1_2"), weights="random")
    assert len(net.features) == 9  # conv1_1 ... relu2_2
    ran = []
    for i, module in enumerate(net.features):
        module.register_forward_hook(lambda m, inp, out, i=i: ran.append(i))
    out = net(torch.zeros(2, 3, 32, 32))
    assert ran == list(range(9))
    assert list(out) == ["relu2_2", "relu1_2"]  # the order asked for
    assert out["relu1_2"].shape == (2, 64, 32, 32) and out["relu2_2"].shape == (2, 128, 16, 16)
    assert len(P.vgg_features("vgg19", "relu5_1", weights="random").features) == 30
    assert net.layers == ("relu2_2", "relu1_2") and "relu2_2" in repr(net)


def test_conv_outputs_are_not_overwritten_by_the_relu_after_them():
    net = P.vgg_features("vgg16", ("conv1_1", "relu1_1"), weights="random")
    out = net(torch.rand(1, 3, 32, 32) * 2 - 1)
    assert (out["conv1_1"] < 0).any()  # an in-place ReLU would have zeroed these
    assert torch.equal(out["relu1_1"], out["conv1_1"].clamp(min=0))


# --------------------------------------------------------------------------- frozen, normalisation inside
def test_frozen_no_parameter_gradients_but_the_input_gets_them():
    net = P.vgg_features("vgg16", ("relu2_2",), weights="random")
    assert not net.training and all(not p.requires_grad for p in net.parameters())
    x = (torch.rand(1, 3, 32, 32) * 2 - 1).requires_grad_(True)
    net(x)["relu2_2"].square().mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in net.parameters())
    parent = nn.Sequential(net, nn.Identity())
    parent.train()
    assert not net.training and not any(m.training for m in net.modules())
    assert net.train(True) is net and not net.training


def test_imagenet_normalisation_happens_inside():
    net = P.vgg_features("vgg16", ("conv1_1",), weights="random")
    mean, std = torch.tensor(P.IMAGENET_MEAN), torch.tensor(P.IMAGENET_STD)
    black, white = -torch.ones(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    torch.testing.assert_close(net.normalise(black)[0, :, 0, 0], (0 - mean) / std)
    torch.testing.assert_close(net.normalise(white)[0, :, 0, 0], (1 - mean) / std)
    x = torch.rand(2, 3, 8, 8) * 2 - 1  # the features are those of the normalised image
    conv = net.features[0]
    expected = nn.functional.conv2d(
        ((x + 1) / 2 - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1), conv.weight, conv.bias, padding=1
    )
    torch.testing.assert_close(net(x)["conv1_1"], expected)
    grey = torch.rand(2, 1, 8, 8) * 2 - 1  # a grey image counts as three equal channels
    torch.testing.assert_close(net(grey)["conv1_1"], net(grey.repeat(1, 3, 1, 1))["conv1_1"])
    with pytest.raises(ValueError, match="N, C, H, W"):
        net(torch.zeros(3, 8, 8))


# --------------------------------------------------------------------------- weights
def test_random_weights_are_seeded_and_leave_the_global_rng_alone():
    state = torch.get_rng_state()
    a = P.vgg_features("vgg16", ("relu3_3",), weights="random")
    assert torch.equal(torch.get_rng_state(), state)
    b = P.vgg_features("vgg16", ("relu3_3",), weights="random")
    assert same_params(a, b) and a.weights_source == "random"
    short = P.vgg_features("vgg16", ("relu1_2",), weights="random")  # a truncated net: the first layers of the long one
    assert torch.equal(short.features[2].weight, a.features[2].weight)
    conv = a.features[12]  # Kaiming (fan_in, ReLU gain): std = sqrt(2 / (256 * 9)), biases 0
    assert abs(float(conv.weight.std()) - (2 / (256 * 9)) ** 0.5) < 0.002 and float(conv.bias.abs().max()) == 0


@pytest.mark.parametrize("torchvision_keys", [True, False])
def test_weights_from_a_path_are_loaded(tmp_path, torchvision_keys):
    path = fixture_weights(tmp_path, n_modules=9, seed=3, torchvision_keys=torchvision_keys)
    net = P.vgg_features("vgg16", ("relu1_2",), weights=path)  # a file longer than the truncated net is fine
    expected = P.init_random(P._make_features("vgg16", 9), seed=3)
    torch.testing.assert_close(net.features[2].weight, expected[2].weight)
    assert net.weights_source == str(path)
    assert P.vgg_features("vgg16", ("relu1_2",), weights=str(path)).weights_source == str(path)


def test_a_wrong_weights_file_is_refused_clearly(tmp_path):
    short = fixture_weights(tmp_path, n_modules=4, name="short.pth")  # only up to relu1_2
    with pytest.raises(ValueError, match="features.5.weight is missing"):
        P.vgg_features("vgg16", ("relu2_2",), weights=short)
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(32, 3, 3, 3), "features.0.bias": torch.zeros(32)}, bad)
    with pytest.raises(ValueError) as err:
        P.vgg_features("vgg16", ("conv1_1",), weights=bad)
    assert "(32, 3, 3, 3)" in str(err.value) and "(64, 3, 3, 3)" in str(err.value)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="could not read a state dict"):
        P.vgg_features("vgg16", ("conv1_1",), weights=junk)
    with pytest.raises(ValueError, match="'auto', 'imagenet', 'random'"):
        P.vgg_features("vgg16", ("conv1_1",), weights="imagnet")  # a typo is neither a keyword nor a file
    with pytest.raises(TypeError):
        P.vgg_features("vgg16", ("conv1_1",), weights=3)


def test_imagenet_offline_raises_a_clear_error(offline, hub_in_tmp):
    with pytest.raises(P.WeightsUnavailableError) as err:
        P.vgg_features("vgg16", ("relu2_2",), weights="imagenet")
    message = str(err.value)
    url = torchvision.models.VGG16_Weights.IMAGENET1K_V1.url
    assert url in message and "vgg16-397923af.pth" in url
    assert str(hub_in_tmp / "checkpoints" / "vgg16-397923af.pth") in message and "weights=" in message
    assert not (hub_in_tmp / "checkpoints").exists() or not list((hub_in_tmp / "checkpoints").iterdir())


def test_auto_offline_falls_back_to_random_with_one_message(offline, hub_in_tmp, capsys):
    net = P.vgg_features("vgg19", ("relu2_1",), weights="auto")
    out = capsys.readouterr().out
    assert net.weights_source == "random"
    assert same_params(net, P.vgg_features("vgg19", ("relu2_1",), weights="random"))
    assert out.count("loss network:") == 1 and "RANDOM" in out
    assert torchvision.models.VGG19_Weights.IMAGENET1K_V1.url in out
    assert str(hub_in_tmp / "checkpoints" / "vgg19-dcbb9e9d.pth") in out and "weights=" in out


def test_download_checks_the_hash_prefix_and_caches(tmp_path, hub_in_tmp, monkeypatch):
    served = hub_named(fixture_weights(tmp_path / "served", n_modules=9, seed=5))
    got = P.imagenet_weights("vgg16", url=served.as_uri(), progress=True)  # with its progress bar
    assert got == hub_in_tmp / "checkpoints" / served.name and got.read_bytes() == served.read_bytes()
    monkeypatch.setattr(vgg_weights, "imagenet_url", lambda arch: served.as_uri())
    net = P.vgg_features("vgg16", ("relu2_2",), weights="imagenet", progress=False)
    assert net.weights_source == "imagenet"
    torch.testing.assert_close(net.features[5].weight, P.init_random(P._make_features("vgg16", 9), seed=5)[5].weight)
    served.unlink()  # the server is gone: the cached, checked file is used without the network
    assert P.vgg_features("vgg16", ("relu2_2",), weights="auto").weights_source == "imagenet"


def test_a_corrupted_download_is_rejected_and_nothing_is_cached(tmp_path, hub_in_tmp):
    served = hub_named(fixture_weights(tmp_path / "served"))
    served.write_bytes(served.read_bytes()[:-10] + b"corrupted!")  # the name's sha256 prefix no longer fits
    with pytest.raises(P.WeightsUnavailableError) as err:
        P.imagenet_weights("vgg16", url=served.as_uri(), progress=False)
    assert "checksum mismatch" in str(err.value) and served.name.split("-")[1][:8] in str(err.value)
    assert list((hub_in_tmp / "checkpoints").iterdir()) == []  # no .part, no final file


def test_an_interrupted_download_leaves_nothing(hub_in_tmp, monkeypatch):
    class Truncated:  # a fake response: announces 10,000 bytes, sends 100, then the connection ends
        headers = {"Content-Length": "10000"}
        sent = False

        def read(self, n):
            data, self.sent = (b"" if self.sent else b"x" * 100), True
            return data

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: Truncated())
    with pytest.raises(P.WeightsUnavailableError, match="interrupted after 100 of 10000 bytes"):
        P.imagenet_weights("vgg16", progress=False)
    assert list((hub_in_tmp / "checkpoints").iterdir()) == []


def test_a_corrupted_cached_file_fails_its_check(tmp_path, hub_in_tmp, offline):
    served = hub_named(fixture_weights(tmp_path / "served"))
    cached = hub_in_tmp / "checkpoints" / served.name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"half a file")
    with pytest.raises(P.WeightsUnavailableError, match="failed its check"):
        P.imagenet_weights("vgg16", url=served.as_uri(), download=False)
    with pytest.raises(P.WeightsUnavailableError, match="could not download"):  # download=True: tries again
        P.imagenet_weights("vgg16", url=served.as_uri())
    assert cached.read_bytes() == b"half a file"  # only a complete, checked download would replace it
    assert vgg_weights.hash_prefix("vgg16-397923af.pth") == "397923af" and vgg_weights.hash_prefix("mine.pth") is None


# --------------------------------------------------------------------------- Gram matrices and losses
def test_gram_matrix_by_hand_for_each_normalisation():
    feats = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)  # C = 2 channels, H = 1, W = 2
    raw = torch.tensor([[[5.0, 11.0], [11.0, 25.0]]])  # [1,2].[1,2] = 5, [1,2].[3,4] = 11, [3,4].[3,4] = 25
    torch.testing.assert_close(P.gram_matrix(feats, "none"), raw)
    torch.testing.assert_close(P.gram_matrix(feats, "hw"), raw / 2)
    torch.testing.assert_close(P.gram_matrix(feats, "chw"), raw / 4)
    torch.testing.assert_close(P.gram_matrix(feats), raw / 4)  # "chw" is the default
    with pytest.raises(ValueError, match="normalise"):
        P.gram_matrix(feats, "gatys")
    with pytest.raises(ValueError, match="B, C, H, W"):
        P.gram_matrix(feats[0])


def test_gram_matrix_is_symmetric_and_positive_semidefinite():
    g = P.gram_matrix(torch.randn(3, 8, 5, 6, generator=torch.Generator().manual_seed(0)))
    assert g.shape == (3, 8, 8)
    torch.testing.assert_close(g, g.transpose(1, 2))
    assert float(torch.linalg.eigvalsh(g.double()).min()) > -1e-10


def test_style_loss_normalisations_relate_to_gatys():
    gen = torch.Generator().manual_seed(1)
    f, t = torch.randn(2, 4, 3, 5, generator=gen), torch.randn(1, 4, 3, 5, generator=gen)
    c, m = 4, 15
    gatys = ((P.gram_matrix(f, "none") - P.gram_matrix(t, "none")) ** 2).sum(dim=(1, 2)).mean() / (4 * c**2 * m**2)
    chw = P.style_loss({"x": f}, {"x": P.gram_matrix(t, "chw")}, normalise="chw")
    hw = P.style_loss({"x": f}, {"x": P.gram_matrix(t, "hw")}, normalise="hw")
    torch.testing.assert_close(chw, 4 * gatys)
    torch.testing.assert_close(hw, c**2 * chw)


def test_style_loss_zero_for_the_same_image_positive_otherwise():
    net = P.vgg_features("vgg16", ("relu1_2", "relu2_2"), weights="random")
    brick = data.bundled_image("brick", 32).unsqueeze(0)
    grass = data.bundled_image("grass", 32).unsqueeze(0)
    target = {k: P.gram_matrix(v) for k, v in net(brick).items()}
    assert float(P.style_loss(net(brick), target)) == pytest.approx(0.0, abs=1e-12)
    assert float(P.style_loss(net(grass), target)) > 0
    only_first = P.style_loss(net(grass), target, layer_weights={"relu2_2": 0.0})
    torch.testing.assert_close(only_first, P.style_loss(net(grass), {"relu1_2": target["relu1_2"]}))
    with pytest.raises(ValueError, match="lacks the layer"):
        P.style_loss({"relu1_2": net(grass)["relu1_2"]}, target)
    with pytest.raises(ValueError, match="layer_weights"):
        P.style_loss(net(grass), target, layer_weights={"relu3_3": 1.0})
    with pytest.raises(ValueError, match="must have shape"):
        P.style_loss(net(grass), {"relu1_2": target["relu1_2"][:, :3, :3]})


def test_content_loss_is_the_mean_squared_feature_error():
    a, b = torch.zeros(2, 3, 4, 4), torch.full((2, 3, 4, 4), 2.0)
    assert float(P.content_loss(a, b)) == 4.0
    assert float(P.content_loss(a, b[:1])) == 4.0  # one target for the whole batch
    with pytest.raises(ValueError, match="must match"):
        P.content_loss(a, torch.zeros(2, 3, 2, 2))


def test_total_variation_of_a_constant_and_a_checkerboard():
    assert float(P.total_variation(torch.full((1, 3, 8, 8), 0.3))) == 0.0
    i, j = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    checker = (((i + j) % 2) * 2 - 1).float().view(1, 1, 8, 8)  # +-1: every neighbour differs by 2
    assert float(P.total_variation(checker)) == 8.0  # 2^2 horizontally + 2^2 vertically
    ramp = torch.arange(4.0).view(1, 1, 1, 4).expand(1, 1, 4, 4)  # steps of 1 across, none down
    assert float(P.total_variation(ramp)) == 1.0
    with pytest.raises(ValueError, match="N, C, H, W"):
        P.total_variation(torch.zeros(8, 8))


# --------------------------------------------------------------------------- optimising an image
def small_net(layers=("relu1_2", "relu2_2")):
    return P.vgg_features("vgg16", layers, weights="random", progress=False)


def test_objective_terms_and_refusals():
    net = small_net()
    torch.manual_seed(0)
    x, y = torch.rand(1, 3, 16, 16) * 2 - 1, torch.rand(1, 3, 16, 16) * 2 - 1
    content = P.content_targets(net, y, ["relu2_2"])
    style = P.style_targets(net, y)
    terms = P.perceptual_objective(net, x, content, style, content_weight=2.0, style_weight=3.0, tv_weight=0.5)
    feats = net(x)
    assert torch.allclose(terms["content"], 2.0 * P.content_loss(feats["relu2_2"], content["relu2_2"]))
    assert torch.allclose(terms["style"], 3.0 * P.style_loss(feats, style))
    assert torch.allclose(terms["tv"], 0.5 * P.total_variation(x))
    assert torch.allclose(terms["total"], terms["content"] + terms["style"] + terms["tv"])
    same = P.perceptual_objective(net, y, content, style)
    assert float(same["total"]) < 1e-10
    with pytest.raises(ValueError, match="content targets, style targets or both"):
        P.perceptual_objective(net, x)
    with pytest.raises(ValueError, match="one image"):
        P.style_targets(net, torch.zeros(2, 3, 8, 8))


@pytest.mark.parametrize("method", ["lbfgs", "adam"])
def test_optimise_image_lowers_the_loss_and_leaves_init_alone(method):
    net = small_net()
    gen = torch.Generator().manual_seed(0)
    target = torch.rand(1, 3, 16, 16, generator=gen) * 2 - 1
    init = torch.rand(1, 3, 16, 16, generator=gen) * 0.2 - 0.1
    before = init.clone()
    out, history = P.optimise_image(
        net, init, content=P.content_targets(net, target, ["relu1_2"]), method=method, steps=30, progress=False
    )
    assert torch.equal(init, before) and not out.requires_grad
    assert out.shape == init.shape and out.min() >= -1 and out.max() <= 1
    assert len(history) >= 30 if method == "adam" else 10 <= len(history) <= 37
    assert history[-1] < 0.2 * history[0]
    with pytest.raises(ValueError, match="method"):
        P.optimise_image(net, init, content=P.content_targets(net, target, ["relu1_2"]), method="sgd")


# --------------------------------------------------------------------------- pixels in range, coarse to fine
def test_tanh_pixels_round_trip_layers_and_refusals():
    net = P.vgg_features("vgg16", ("relu1_1", "relu2_1"), weights="random")
    wrapped = P.TanhPixels(net)
    x = torch.linspace(-0.99, 0.99, 2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    assert torch.allclose(wrapped.to_pixels(wrapped.to_latent(x)), x, atol=1e-5)
    z = wrapped.to_latent(torch.tensor([-1.0, 1.0]))  # the ends are moved in, not sent to infinity
    assert torch.isfinite(z).all() and z.abs().max() <= 1, "z of +-1 pixels must stay in [-1, 1]"
    assert wrapped.layers == net.layers
    img = torch.rand(1, 3, 16, 16) * 2 - 1
    out = wrapped(wrapped.to_latent(img))
    assert torch.allclose(out["relu2_1"], net(img.clamp(-0.999, 0.999))["relu2_1"], atol=1e-4)
    with pytest.raises(ValueError, match="sharpness"):
        P.TanhPixels(net, 0.0)


def test_optimise_in_range_keeps_pixels_inside_and_returns_what_it_scored():
    torch.manual_seed(0)
    net = P.vgg_features("vgg16", ("relu1_1", "relu2_1"), weights="random")
    style = torch.full((1, 3, 16, 16), -1.0)  # saturated: plain L-BFGS would push pixels below -1
    style[..., ::2, :] = 1.0
    targets = P.style_targets(net, style)
    init = (torch.rand(1, 3, 16, 16) * 2 - 1) * 0.5
    out, history = P.optimise_in_range(net, init, style=targets, style_weight=1e3, steps=15, progress=False)
    assert out.shape == init.shape and out.abs().max() < 1
    assert history[-1] < 0.5 * history[0]
    final = P.perceptual_objective(net, out, style=targets, style_weight=1e3)["total"].item()
    assert final == pytest.approx(history[-1], rel=1e-3, abs=1e-6)
    with pytest.raises(ValueError):
        P.optimise_in_range(net, torch.zeros(3, 16, 16), style=targets)  # not (N, C, H, W)


def test_optimise_multiscale_ends_at_the_last_size_and_checks_its_arguments():
    net = P.vgg_features("vgg16", ("relu1_1", "relu2_1"), weights="random")
    content = data.bundled_image("chelsea", 32)[None]
    style = data.bundled_image("gravel", 32)[None]
    init = torch.zeros(1, 3, 16, 16)
    out, history = P.optimise_multiscale(
        net,
        init,
        (16, 32),
        (4, 4),
        content=content,
        style=style,
        content_layers=("relu2_1",),
        style_weight=10.0,
        progress=False,
    )
    assert out.shape == (1, 3, 32, 32) and out.abs().max() < 1
    assert len(history) >= 2 and all(h == h for h in history)
    texture, _ = P.optimise_multiscale(net, torch.zeros(1, 1, 16, 16), (16,), (3,), style=style, progress=False)
    assert texture.shape == (1, 1, 16, 16)
    with pytest.raises(ValueError, match="equal length"):
        P.optimise_multiscale(net, init, (16, 32), (4,), style=style)
    with pytest.raises(ValueError, match="content image, a style image"):
        P.optimise_multiscale(net, init, (16,), (4,))
