"""Widget logic, tested in Python: set the controls, check that what the widget shows follows."""
import base64

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402
import torch  # noqa: E402

from utils import data, widgets  # noqa: E402


def fake_runs():
    """A collapsing run (all samples on mode 0) and a covering run (samples on every mode), on ring and grid."""
    ring, grid = data.ring(), data.grid()
    surface = torch.full((8, 8), 0.5)
    runs = {}
    for name, mix in (("ring", ring), ("grid", grid)):
        covering = [{"step": s, "samples": mix.modes.repeat(10, 1) if s else torch.zeros(40, 2), "surface": surface}
                    for s in (0, 100, 200)]
        collapsed = [{"step": s, "samples": mix.modes[:1].repeat(40, 1), "surface": surface * (s / 200)}
                     for s in (0, 100, 200)]
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
    from utils.widgets import CycleExplorer

    a, b = torch.rand(5, 1, 8, 8) * 2 - 1, torch.rand(3, 1, 8, 8) * 2 - 1
    models = _cycle_models()
    models["identity"] = (torch.nn.Conv2d(1, 1, 1), torch.nn.Conv2d(1, 1, 1))
    for conv in models["identity"]:
        torch.nn.init.ones_(conv.weight)
        torch.nn.init.zeros_(conv.bias)
    ex = CycleExplorer(models, a, b, domains=("hand", "type"),
                       classify={"hand": lambda x: torch.zeros(len(x), dtype=torch.long)})
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
    from utils.widgets import CycleExplorer

    with pytest.raises(ValueError, match="models"):
        CycleExplorer({}, torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="images_b"):
        CycleExplorer(_cycle_models(), torch.zeros(1, 1, 8, 8), torch.zeros(8, 8))
