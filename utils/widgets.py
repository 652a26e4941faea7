"""Widgets: explore recorded training runs without retraining.

Each explorer draws with matplotlib into an ``ipywidgets.Image``, so moving a control redraws at once. Shown in a
notebook, it also carries a PNG of its current view: JupyterLab renders the live widget, while a plain viewer
(GitHub, nbviewer) or a run without a widget frontend falls back to the static picture.
"""
from __future__ import annotations

import base64
import io
from typing import Sequence

import ipywidgets as w
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor

from . import metrics, viz
from .data import Mixture

FRAME_KEYS = ("step", "samples", "surface")


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


class _LiveOrStatic:
    """Mixin: display the live widget ``self.ui`` and, for viewers without widgets, a PNG of ``self.figure()``."""

    def _repr_mimebundle_(self, **kwargs) -> dict:
        bundle = self.ui._repr_mimebundle_(**kwargs)
        bundle["image/png"] = base64.b64encode(bytes(self.image.value)).decode("ascii")  # notebooks store PNG as base64
        bundle["text/plain"] = repr(self)
        return bundle

    def show(self) -> None:
        """Display the explorer (a static picture where no widget frontend runs)."""
        from IPython.display import display

        display(self)


class ModeCollapseExplorer(_LiveOrStatic):
    """Browse 2-D GAN runs recorded with ``utils.train.Snapshots2D``: choose the data set and the method, slide
    over the training steps, and see the samples over the true modes and D's decision surface, the samples
    per mode, and the metrics up to that step.

    ``runs`` maps ``(dataset, method)`` to a list of frames ``{"step", "samples" (N, 2), "surface" (R, R)}``;
    ``mixtures`` maps each dataset name to its :class:`utils.data.Mixture`.
    """

    def __init__(self, runs: dict[tuple[str, str], Sequence[dict]], mixtures: dict[str, Mixture],
                 extents: dict[str, tuple[float, float, float, float]] | None = None) -> None:
        if not runs:
            raise ValueError("runs is empty: train at least one method and record its frames with Snapshots2D")
        for key, frames in runs.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise TypeError(f"runs must be keyed by (dataset, method) tuples, got {key!r}")
            if key[0] not in mixtures:
                raise ValueError(f"run {key} uses dataset {key[0]!r}, which has no entry in mixtures {sorted(mixtures)}")
            if not frames:
                raise ValueError(f"run {key} has no frames")
            missing = [k for k in FRAME_KEYS if k not in frames[0]]
            if missing:
                raise ValueError(f"frames of run {key} lack {missing}; record them with utils.train.Snapshots2D")
        self.runs = {k: list(v) for k, v in runs.items()}
        self.mixtures = mixtures
        self.extents = extents or {name: m.extent(margin=0.3 + 0.1 * float(m.modes.abs().max())) for name, m in mixtures.items()}
        self._history: dict[tuple[str, str], list[metrics.ModeReport]] = {}
        self._busy = False

        datasets = list(dict.fromkeys(d for d, _ in self.runs))
        self.dataset = w.ToggleButtons(options=datasets, value=datasets[0], description="data")
        self.method = w.Dropdown(options=self._methods(datasets[0]), description="method")
        self.step = w.SelectionSlider(options=self._steps(), description="step", continuous_update=False,
                                      layout=w.Layout(width="420px"))
        self.step.value = self.step.options[-1]
        self.image = w.Image(format="png")
        self.ui = w.VBox([w.HBox([self.dataset, self.method]), self.step, self.image])
        self.dataset.observe(self._on_dataset, names="value")
        self.method.observe(self._on_method, names="value")
        self.step.observe(self._on_step, names="value")
        self.redraw()

    def __repr__(self) -> str:
        return f"ModeCollapseExplorer({len(self.runs)} runs; showing {self.dataset.value} / {self.method.value} at step {self.step.value})"

    # --- what is shown -------------------------------------------------------------------------------------
    def _methods(self, dataset: str) -> list[str]:
        return [m for d, m in self.runs if d == dataset]

    def _steps(self) -> list[int]:
        return [f["step"] for f in self.runs[(self.dataset.value, self.method.value)]]

    def _frame_index(self) -> int:
        return self._steps().index(self.step.value)

    def history(self, dataset: str, method: str) -> list[metrics.ModeReport]:
        """The mode metrics of every recorded frame of one run (computed once, then cached)."""
        key = (dataset, method)
        if key not in self._history:
            mix = self.mixtures[dataset]
            self._history[key] = [metrics.mode_metrics(f["samples"], mix.modes, mix.std) for f in self.runs[key]]
        return self._history[key]

    def state(self) -> dict:
        """What the explorer shows now: the choices, the frame, and its metrics (modes, high quality, KL)."""
        dataset, method = self.dataset.value, self.method.value
        i = self._frame_index()
        frame = self.runs[(dataset, method)][i]
        mix = self.mixtures[dataset]
        report = self.history(dataset, method)[i]
        return {"dataset": dataset, "method": method, "step": frame["step"], "frame": frame, "report": report,
                "kl": metrics.mode_histogram_kl(frame["samples"], mix.modes, mix.std)}

    def figure(self) -> Figure:
        """Samples over the modes and D's surface | samples per mode | metrics over training, at the chosen step."""
        s = self.state()
        mix, frame, report = self.mixtures[s["dataset"]], s["frame"], s["report"]
        fig, axes = plt.subplots(1, 3, figsize=(13, 4), gridspec_kw={"width_ratios": [1, 1.1, 1.1]})
        viz.plot_2d(frame["samples"], mix.modes, frame["surface"], self.extents[s["dataset"]], ax=axes[0],
                    title=f"{s['method']} on the {s['dataset']}, step {s['step']}")
        nearest, _ = metrics.nearest_mode(frame["samples"], mix.modes)
        all_counts = torch.bincount(nearest, minlength=mix.n_modes)
        axes[1].bar(range(mix.n_modes), all_counts.tolist(), color="navajowhite", width=0.8, label="nearest to the mode")
        axes[1].bar(range(mix.n_modes), report.counts.tolist(), color="tab:orange", width=0.8, label="… and high quality")
        axes[1].axhline(len(nearest) / mix.n_modes, color="k", ls=":", label="uniform")
        axes[1].set(xlabel="mode", ylabel="samples",
                    title=f"{report}\nKL(histogram || uniform) = {s['kl']:.2f} nats")
        axes[1].legend(fontsize=8)
        hist = self.history(s["dataset"], s["method"])
        steps = self._steps()
        ax = axes[2]
        ax.plot(steps, [h.modes_captured / h.n_modes * 100 for h in hist], "o-", ms=3, label="modes captured (%)")
        ax.plot(steps, [h.high_quality * 100 for h in hist], "s-", ms=3, label="high-quality samples (%)")
        ax.axvline(s["step"], color="0.5", ls="--")
        ax.set(xlabel="training step", ylabel="%", ylim=(-3, 103), title="metrics over training")
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        return fig

    def redraw(self) -> None:
        """Draw the current choice into the widget's image."""
        self.image.value = figure_png(self.figure())

    # --- reactions to the controls ---------------------------------------------------------------------------
    def _on_dataset(self, _) -> None:
        method = self.method.value
        options = self._methods(self.dataset.value)
        self._busy = True  # changing the options fires value events: redraw once, at the end
        self.method.options = options
        self.method.value = method if method in options else options[0]
        self._busy = False
        self._reset_steps()

    def _on_method(self, _) -> None:
        if not self._busy:
            self._reset_steps()

    def _reset_steps(self) -> None:
        step = self.step.value
        steps = self._steps()
        self._busy = True
        self.step.options = steps
        self.step.value = step if step in steps else steps[-1]
        self._busy = False
        self.redraw()

    def _on_step(self, _) -> None:
        if not self._busy:
            self.redraw()


class ImageSequenceViewer(_LiveOrStatic):
    """Slide through image grids recorded over training (e.g. a generator's output on fixed noise).

    ``images[i]`` is a batch (N, C, H, W) in [-1, 1] recorded at training step ``steps[i]``.
    """

    def __init__(self, images: Sequence[Tensor], steps: Sequence[int], nrow: int = 8, title: str = "fixed noise") -> None:
        if len(images) == 0 or len(images) != len(steps):
            raise ValueError(f"need one image batch per step, got {len(images)} batches and {len(steps)} steps")
        self.images, self.steps, self.nrow, self.title = list(images), list(steps), nrow, title
        self.step = w.SelectionSlider(options=self.steps, value=self.steps[-1], description="step",
                                      continuous_update=False, layout=w.Layout(width="420px"))
        self.image = w.Image(format="png")
        self.ui = w.VBox([self.step, self.image])
        self.step.observe(lambda _: self.redraw(), names="value")
        self.redraw()

    def __repr__(self) -> str:
        return f"ImageSequenceViewer({len(self.steps)} frames; showing step {self.step.value})"

    def figure(self) -> Figure:
        """The image grid at the chosen step."""
        batch = self.images[self.steps.index(self.step.value)]
        ncols = min(self.nrow, batch.shape[0])
        fig, ax = plt.subplots(figsize=(0.7 * ncols + 1, 0.7 * -(-batch.shape[0] // self.nrow) + 0.6))
        viz.show_images(batch, nrow=self.nrow, title=f"{self.title}, step {self.step.value}", ax=ax)
        return fig

    def redraw(self) -> None:
        """Draw the chosen step into the widget's image."""
        self.image.value = figure_png(self.figure())


class CycleExplorer(_LiveOrStatic):
    """Pick an image of either domain and follow its round trip through a CycleGAN: a -> g_ab(a) -> g_ba(g_ab(a))
    or b -> g_ba(b) -> g_ab(g_ba(b)), with the cycle error |x - x_rec| as a heat map, for several trained models
    side by side (e.g. with and without the cycle loss).

    ``models`` maps a name to its generators ``(g_ab, g_ba)``; ``images_a`` (N_a, C, H, W) and ``images_b``
    (N_b, C, H, W) are in [-1, 1]. ``classify`` optionally maps a domain's name to a function images (N, C, H, W)
    -> class ids (N,), e.g. ``{"A": fn_a, "B": fn_b}``: each panel then says what its domain's classifier reads.
    Every translation is computed once, up front.
    """

    def __init__(self, models: dict[str, tuple[torch.nn.Module, torch.nn.Module]], images_a: Tensor, images_b: Tensor,
                 domains: tuple[str, str] = ("A", "B"), classify: dict | None = None) -> None:
        from .cyclegan import translate

        if not models:
            raise ValueError("models must name at least one pair of generators (g_ab, g_ba)")
        for name, x in (("images_a", images_a), ("images_b", images_b)):
            if not isinstance(x, Tensor) or x.dim() != 4 or len(x) == 0:
                raise ValueError(f"{name} must be a non-empty batch (N, C, H, W), got "
                                 f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}")
        self.domains, self.classify = domains, classify or {}
        self.inputs = {"AB": images_a, "BA": images_b}
        self.trips: dict[tuple[str, str], tuple[Tensor, Tensor]] = {}
        for name, (g_ab, g_ba) in models.items():
            fwd_a = translate(g_ab, images_a)
            fwd_b = translate(g_ba, images_b)
            self.trips[(name, "AB")] = (fwd_a, translate(g_ba, fwd_a))
            self.trips[(name, "BA")] = (fwd_b, translate(g_ab, fwd_b))
        self.names = list(models)
        a, b = domains
        self.direction = w.ToggleButtons(options=[(f"{a} → {b} → {a}", "AB"), (f"{b} → {a} → {b}", "BA")],
                                         value="AB", description="round trip")
        self.index = w.IntSlider(value=0, min=0, max=len(images_a) - 1, description="image",
                                 continuous_update=False, layout=w.Layout(width="420px"))
        self.image = w.Image(format="png")
        self.ui = w.VBox([self.direction, self.index, self.image])
        self.direction.observe(self._direction_changed, names="value")
        self.index.observe(lambda _: self.redraw(), names="value")
        self.redraw()

    def __repr__(self) -> str:
        return (f"CycleExplorer({len(self.names)} models; showing {self.direction.value} image {self.index.value}, "
                f"cycle errors {self.cycle_errors()})")

    def _direction_changed(self, _: object) -> None:
        self.index.max = len(self.inputs[self.direction.value]) - 1
        self.redraw()

    def cycle_errors(self) -> dict[str, float]:
        """The mean |x - x_rec| of the chosen image for each model."""
        d, i = self.direction.value, self.index.value
        x = self.inputs[d][i]
        return {name: round(float((self.trips[(name, d)][1][i] - x).abs().mean()), 4) for name in self.names}

    def _label(self, domain: str, image: Tensor) -> str:
        fn = self.classify.get(domain)
        return f" (reads as {int(fn(image[None])[0])})" if fn is not None else ""

    def figure(self) -> Figure:
        """For each model: input | translated | reconstructed | cycle error map."""
        d, i = self.direction.value, self.index.value
        src, dst = (self.domains[0], self.domains[1]) if d == "AB" else (self.domains[1], self.domains[0])
        x = self.inputs[d][i]
        errors = self.cycle_errors()
        fig, axes = plt.subplots(len(self.names), 4, figsize=(8.4, 2.3 * len(self.names)), squeeze=False)
        for row, name in enumerate(self.names):
            fake, rec = self.trips[(name, d)][0][i], self.trips[(name, d)][1][i]
            err = (rec - x).abs().mean(0)
            panels = [(x, f"{src} input{self._label(src, x)}"), (fake, f"→ {dst}{self._label(dst, fake)}"),
                      (rec, f"→ back to {src}")]
            for ax, (img, title) in zip(axes[row], panels):
                viz.show_images(img[None], nrow=1, ax=ax)
                ax.set_title(title, fontsize=8)
            im = axes[row, 3].imshow(err.numpy(), cmap="magma", vmin=0, vmax=2)
            axes[row, 3].set_title(f"|x − x_rec|, mean {errors[name]:.3f}", fontsize=8)
            axes[row, 3].axis("off")
            fig.colorbar(im, ax=axes[row, 3], fraction=0.046)
            axes[row, 0].text(-0.15, 0.5, name, transform=axes[row, 0].transAxes, rotation=90, va="center",
                              ha="right", fontsize=9)
        fig.suptitle(f"round trip {src} → {dst} → {src}, image {i}", fontsize=10)
        fig.tight_layout()
        return fig

    def redraw(self) -> None:
        """Draw the chosen image's round trips into the widget's image."""
        self.image.value = figure_png(self.figure())
