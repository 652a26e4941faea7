"""Widget logic, tested in Python: set the controls, check that what the widget shows follows."""

import base64

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402
import torch  # noqa: E402

from utils import data
from utils.course import widgets  # noqa: E402


def fake_runs():
    """A collapsing run (all samples on mode 0) and a covering run (samples on every mode), on ring and grid."""
    ring, grid = data.ring(), data.grid()
    surface = torch.full((8, 8), 0.5)
    runs = {}
    for name, mix in (("ring", ring), ("grid", grid)):
        covering = [
            {"step": s, "samples": mix.modes.repeat(10, 1) if s else torch.zeros(40, 2), "surface": surface}
            for s in (0, 100, 200)
        ]
        collapsed = [
            {"step": s, "samples": mix.modes[:1].repeat(40, 1), "surface": surface * (s / 200)} for s in (0, 100, 200)
        ]
        runs[(name, "covers")] = covering
        runs[(name, "collapses")] = collapsed
    runs[("ring", "ring only")] = runs[("ring", "covers")][:2]
    return runs, {"ring": ring, "grid": grid}


def test_mode_collapse_explorer_follows_its_controls():
    runs, mixtures = fake_runs()
    ex = widgets.ModeCollapseExplorer(runs, mixtures)
    assert ex.dataset.options == ("ring", "grid")
    assert ex.method.options == ("covers", "collapses", "ring only")
    assert ex.step.value == 200
    s = ex.state()
    assert (s["method"], s["report"].modes_captured, s["kl"]) == ("covers", 8, pytest.approx(0.0))
    png_covering = ex.image.value

    ex.method.value = "collapses"
    s = ex.state()
    assert s["report"].modes_captured == 1 and s["kl"] == pytest.approx(torch.log(torch.tensor(8.0)).item())
    assert ex.image.value != png_covering

    ex.method.value = "covers"
    ex.step.value = 0
    assert ex.state()["report"].modes_captured == 0
    png_step0 = ex.image.value
    ex.step.value = 100
    assert ex.state()["report"].modes_captured == 8 and ex.image.value != png_step0

    ex.dataset.value = "grid"
    assert "ring only" not in ex.method.options and ex.method.value == "covers"
    assert ex.state()["report"].n_modes == 25 and ex.step.value == 100

    ex.dataset.value = "ring"
    ex.method.value = "ring only"
    assert ex.step.options == (0, 100) and ex.step.value == 100


def test_explorer_history_is_per_frame():
    runs, mixtures = fake_runs()
    ex = widgets.ModeCollapseExplorer(runs, mixtures)
    assert [h.modes_captured for h in ex.history("ring", "covers")] == [0, 8, 8]


def test_static_fallback_bundle():
    runs, mixtures = fake_runs()
    ex = widgets.ModeCollapseExplorer(runs, mixtures)
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "ModeCollapseExplorer" in bundle["text/plain"]


def test_explorer_rejects_bad_runs():
    runs, mixtures = fake_runs()
    with pytest.raises(ValueError, match="empty"):
        widgets.ModeCollapseExplorer({}, mixtures)
    with pytest.raises(ValueError, match="no entry in mixtures"):
        widgets.ModeCollapseExplorer({("moon", "x"): runs[("ring", "covers")]}, mixtures)
    with pytest.raises(ValueError, match="lack"):
        widgets.ModeCollapseExplorer({("ring", "x"): [{"step": 0}]}, mixtures)
    with pytest.raises(TypeError, match="tuples"):
        widgets.ModeCollapseExplorer({"ring": runs[("ring", "covers")]}, mixtures)


def test_image_sequence_viewer():
    imgs = [torch.full((4, 1, 8, 8), v) for v in (-1.0, 0.0, 1.0)]
    viewer = widgets.ImageSequenceViewer(imgs, [0, 10, 20], nrow=2)
    last = viewer.image.value
    viewer.step.value = 0
    assert viewer.image.value != last
    assert "image/png" in viewer._repr_mimebundle_()
    with pytest.raises(ValueError, match="one image batch per step"):
        widgets.ImageSequenceViewer(imgs, [0, 10])


def _cycle_models():
    from utils import cyclegan as cg

    torch.manual_seed(0)
    make = lambda: cg.resnet_generator(1, 1, width=4, n_blocks=1, n_down=1)  # noqa: E731
    return {"model 1": (make(), make()), "identity": (torch.nn.Identity(), torch.nn.Identity())}


def test_cycle_explorer_redraws_and_reports_cycle_errors():
    from utils.course.widgets import CycleExplorer

    a, b = torch.rand(5, 1, 8, 8) * 2 - 1, torch.rand(3, 1, 8, 8) * 2 - 1
    models = _cycle_models()
    models["identity"] = (torch.nn.Conv2d(1, 1, 1), torch.nn.Conv2d(1, 1, 1))
    for conv in models["identity"]:
        torch.nn.init.ones_(conv.weight)
        torch.nn.init.zeros_(conv.bias)
    ex = CycleExplorer(
        models, a, b, domains=("hand", "type"), classify={"hand": lambda x: torch.zeros(len(x), dtype=torch.long)}
    )
    png0 = bytes(ex.image.value)
    assert ex.cycle_errors()["identity"] == 0  # an identity round trip has no cycle error
    assert ex.cycle_errors()["model 1"] > 0
    ex.index.value = 4
    assert bytes(ex.image.value) != png0
    ex.direction.value = "BA"
    assert ex.index.max == 2 and ex.index.value == 2  # domain B holds 3 images: the slider follows
    x = b[2]
    g_ab, g_ba = models["model 1"]
    with torch.no_grad():
        expected = (g_ab.eval()(g_ba.eval()(x[None]))[0] - x).abs().mean().item()
    assert abs(ex.cycle_errors()["model 1"] - expected) < 1e-3
    fig = ex.figure()
    assert "type → hand → type" in fig._suptitle.get_text()
    matplotlib.pyplot.close(fig)
    bundle = ex._repr_mimebundle_()
    assert "image/png" in bundle and "CycleExplorer" in bundle["text/plain"]


def test_cycle_explorer_rejects_bad_input():
    from utils.course.widgets import CycleExplorer

    with pytest.raises(ValueError, match="models"):
        CycleExplorer({}, torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="images_b"):
        CycleExplorer(_cycle_models(), torch.zeros(1, 1, 8, 8), torch.zeros(8, 8))


# --------------------------------------------------------------------------- notebook 08: Gram and style weights
@pytest.fixture(scope="module")
def tiny_net():
    from utils import perceptual

    return perceptual.vgg_features("vgg16", ("relu1_2", "relu2_2"), weights="random", progress=False)


def _tiny_images():
    g = torch.Generator().manual_seed(0)
    ramp = torch.linspace(-1, 1, 16).view(1, 1, 1, 16).expand(1, 3, 16, 16).clone()
    return {
        "noise": torch.rand(1, 3, 16, 16, generator=g) * 2 - 1,
        "ramp": ramp,
        "stripes": torch.sin(torch.arange(16.0) * 1.6).view(1, 1, 16, 1).expand(1, 3, 16, 16).clone(),
    }


@pytest.fixture
def gram_explorer(tiny_net):
    return widgets.GramExplorer(tiny_net, _tiny_images(), synth_steps=5, synth_size=16)


def test_gram_explorer_redraws_when_its_controls_change(gram_explorer):
    ex = gram_explorer
    assert ex.state() == {"mode": "explore", "image": "noise", "other": "ramp", "layer": "relu1_2"}
    seen = {bytes(ex.image.value)}
    ex.layer.value = "relu2_2"
    seen.add(bytes(ex.image.value))
    ex.image_name.value = "ramp"
    seen.add(bytes(ex.image.value))
    ex.mode.value = "compare"
    assert ex.other.layout.display is None and ex.synth_button.layout.display == "none"
    seen.add(bytes(ex.image.value))
    ex.other.value = "stripes"
    seen.add(bytes(ex.image.value))
    assert len(seen) == 5  # every change drew a different picture
    assert "compare: ramp vs stripes at relu2_2" in repr(ex)
    ex.mode.value = "explore"
    assert ex.other.layout.display == "none"
    bundle = ex._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]) == bytes(ex.image.value) and "GramExplorer" in bundle["text/plain"]


def test_gram_explorer_grams_and_top_pairs_are_right(gram_explorer, tiny_net):
    from utils import perceptual

    ex = gram_explorer
    feats = tiny_net(_tiny_images()["noise"])["relu2_2"]
    torch.testing.assert_close(ex.gram("noise", "relu2_2"), perceptual.gram_matrix(feats)[0])
    flat = feats[0].flatten(1)
    norm = flat.norm(dim=1)
    corr = (flat @ flat.T) / (norm[:, None] * norm[None, :]).clamp(min=1e-30)
    corr[(norm[:, None] * norm[None, :]) == 0] = 0
    corr.fill_diagonal_(-2)  # off-diagonal only
    pairs = ex.top_pairs("relu2_2", k=4, image="noise")
    assert len(pairs) == 4 and all(i < j for i, j, _ in pairs)
    values = [r for _, _, r in pairs]
    assert values == sorted(values, reverse=True)
    best = torch.topk(corr.triu(diagonal=1).flatten(), 4).values  # the 4 largest off-diagonal correlations
    torch.testing.assert_close(torch.tensor(values), best, atol=1e-4, rtol=1e-4)
    for i, j, r in pairs:
        assert abs(r - float(corr[i, j])) < 1e-4
    assert (
        ex.active_channels("noise", "relu2_2", 3) == torch.argsort(flat.square().mean(1), descending=True)[:3].tolist()
    )
    ex.image_name.value, ex.layer.value = "noise", "relu2_2"
    assert ex.top_pairs(k=4) == pairs  # defaults: the chosen image and layer


def test_gram_explorer_style_distance(gram_explorer):
    ex = gram_explorer
    for layer in ("relu1_2", "relu2_2", None):
        assert ex.style_distance("noise", "noise", layer) == 0
        ab, ba = ex.style_distance("noise", "stripes", layer), ex.style_distance("stripes", "noise", layer)
        assert ab > 0 and ab == pytest.approx(ba)
    total = ex.style_distance("noise", "ramp")
    assert total == pytest.approx(
        ex.style_distance("noise", "ramp", "relu1_2") + ex.style_distance("noise", "ramp", "relu2_2")
    )
    expected = float((ex.gram("noise", "relu1_2") - ex.gram("ramp", "relu1_2")).square().sum())
    assert ex.style_distance("noise", "ramp", "relu1_2") == pytest.approx(expected)


def test_gram_explorer_texture_synthesis_lowers_the_style_loss_and_is_cached(gram_explorer, tiny_net):
    from utils import perceptual

    ex = gram_explorer
    ex.image_name.value, ex.layer.value = "stripes", "relu2_2"
    png = bytes(ex.image.value)
    texture = ex.synthesise()
    assert texture.shape == (1, 3, 16, 16) and texture.abs().max() <= 1
    target = {"relu2_2": ex.gram("stripes", "relu2_2")[None]}
    start = 0.5 * (torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1)  # its seeded init
    before = perceptual.style_loss(tiny_net(start), target).item()
    after = perceptual.style_loss(tiny_net(texture), target).item()
    assert after < 0.5 * before
    assert ex.synthesise("stripes", "relu2_2") is texture  # cached: no second optimisation
    assert list(ex.textures) == [("stripes", "relu2_2")]
    ex.redraw()
    assert bytes(ex.image.value) != png  # the texture is now drawn
    ex.layer.value = "relu1_2"
    ex.layer.value = "relu2_2"
    assert ex.textures[("stripes", "relu2_2")] is texture  # moving the controls loses nothing
    ex._on_synth()  # the button: synthesises the current choice, then redraws
    assert ("stripes", "relu2_2") in ex.textures and not ex.synth_button.disabled
    with pytest.raises(ValueError, match="unknown layer"):
        ex.synthesise("stripes", "relu3_3")
    with pytest.raises(ValueError, match="unknown image"):
        ex.gram("cat", "relu1_2")


def test_gram_explorer_rejects_bad_input(tiny_net):
    images = _tiny_images()
    with pytest.raises(ValueError, match="empty"):
        widgets.GramExplorer(tiny_net, {})
    with pytest.raises(ValueError, match="one image"):
        widgets.GramExplorer(tiny_net, {"two": torch.zeros(2, 3, 16, 16)})
    with pytest.raises(ValueError, match="N, C, H, W"):
        widgets.GramExplorer(tiny_net, {"flat": torch.zeros(3, 16, 16)})
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        widgets.GramExplorer(tiny_net, {"bright": torch.full((1, 3, 16, 16), 255.0)})
    with pytest.raises(ValueError, match="relu3_3"):
        widgets.GramExplorer(tiny_net, images, layers=("relu3_3",))
    with pytest.raises(ValueError, match="synth_steps"):
        widgets.GramExplorer(tiny_net, images, synth_steps=0)
    one = widgets.GramExplorer(
        tiny_net, {"grey": images["ramp"][:, :1]}, layers=("relu2_2",), synth_steps=2, synth_size=8
    )
    assert one.other.value == "grey" and one.layer.options == ("relu2_2",)
    assert one.synthesise().shape == (1, 1, 8, 8)  # a grey image gets a grey texture


def _style_grid(cws=(1.0, 10.0), sws=(1e2, 1e3, 1e4)):
    return {
        (a, b): torch.full((1, 3, 8, 8), (i * len(sws) + j) / 10 - 0.5)
        for i, a in enumerate(cws)
        for j, b in enumerate(sws)
    }


def test_style_weights_explorer_follows_its_sliders():
    content, style = torch.zeros(1, 3, 8, 8), torch.ones(1, 3, 8, 8)
    results = _style_grid()
    ex = widgets.StyleWeightsExplorer(results, content, style)
    assert [label for label, _ in ex.content_weight.options] == ["1", "10"]
    assert [label for label, _ in ex.style_weight.options] == ["100", "1000", "10000"]
    assert (ex.content_weight.value, ex.style_weight.value) == (10.0, 1e3)
    assert ex.current() is not None and torch.equal(ex.current(), results[(10.0, 1e3)])
    seen = {bytes(ex.image.value)}
    ex.style_weight.value = 1e4
    assert torch.equal(ex.current(), results[(10.0, 1e4)])
    seen.add(bytes(ex.image.value))
    ex.content_weight.value = 1.0
    seen.add(bytes(ex.image.value))
    assert len(seen) == 3
    bundle = ex._repr_mimebundle_()
    grid_png = base64.b64decode(bundle["image/png"])
    assert grid_png[:8] == b"\x89PNG\r\n\x1a\n" and grid_png != bytes(ex.image.value)  # the static picture: the grid
    fig = ex.grid_figure()
    assert len(fig.axes) == 6
    matplotlib.pyplot.close(fig)
    assert "2x3 grid" in bundle["text/plain"]


def test_style_weights_explorer_rejects_bad_grids():
    content, style = torch.zeros(1, 3, 8, 8), torch.ones(1, 3, 8, 8)
    results = _style_grid()
    with pytest.raises(ValueError, match="empty"):
        widgets.StyleWeightsExplorer({}, content, style)
    partial = dict(results)
    del partial[(1.0, 1e3)]
    with pytest.raises(ValueError, match=r"not a full grid.*\(1\.0, 1000\.0\)"):
        widgets.StyleWeightsExplorer(partial, content, style)
    with pytest.raises(ValueError, match="pairs of numbers"):
        widgets.StyleWeightsExplorer({1.0: content}, content, style)
    bad = dict(results)
    bad[(1.0, 1e3)] = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match="same shape"):
        widgets.StyleWeightsExplorer(bad, content, style)
    bad[(1.0, 1e3)] = torch.zeros(2, 3, 8, 8)
    with pytest.raises(ValueError, match="one image"):
        widgets.StyleWeightsExplorer(bad, content, style)
    bad[(1.0, 1e3)] = torch.zeros(3, 8, 8)
    with pytest.raises(ValueError, match="N, C, H, W"):
        widgets.StyleWeightsExplorer(bad, content, style)
    with pytest.raises(ValueError, match="style"):
        widgets.StyleWeightsExplorer(results, content, torch.zeros(1, 2, 8, 8))
    with pytest.raises(ValueError, match="content"):
        widgets.StyleWeightsExplorer(results, torch.zeros(2, 3, 8, 8), style)
