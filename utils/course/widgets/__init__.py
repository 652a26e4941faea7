"""Widgets: explore recorded training runs without retraining.

Each explorer draws with matplotlib into an ``ipywidgets.Image``, so moving a control redraws at once. Shown in a
notebook, it also carries a PNG of its current view: JupyterLab renders the live widget, while a plain viewer
(GitHub, nbviewer) or a run without a widget frontend falls back to the static picture.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import ipywidgets as w
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor

from ... import metrics, viz
from ...data import Mixture

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

    def __init__(
        self,
        runs: dict[tuple[str, str], Sequence[dict]],
        mixtures: dict[str, Mixture],
        extents: dict[str, tuple[float, float, float, float]] | None = None,
    ) -> None:
        if not runs:
            raise ValueError("runs is empty: train at least one method and record its frames with Snapshots2D")
        for key, frames in runs.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise TypeError(f"runs must be keyed by (dataset, method) tuples, got {key!r}")
            if key[0] not in mixtures:
                raise ValueError(
                    f"run {key} uses dataset {key[0]!r}, which has no entry in mixtures {sorted(mixtures)}"
                )
            if not frames:
                raise ValueError(f"run {key} has no frames")
            missing = [k for k in FRAME_KEYS if k not in frames[0]]
            if missing:
                raise ValueError(f"frames of run {key} lack {missing}; record them with utils.train.Snapshots2D")
        self.runs = {k: list(v) for k, v in runs.items()}
        self.mixtures = mixtures
        self.extents = extents or {
            name: m.extent(margin=0.3 + 0.1 * float(m.modes.abs().max())) for name, m in mixtures.items()
        }
        self._history: dict[tuple[str, str], list[metrics.ModeReport]] = {}
        self._busy = False

        datasets = list(dict.fromkeys(d for d, _ in self.runs))
        self.dataset = w.ToggleButtons(options=datasets, value=datasets[0], description="data")
        self.method = w.Dropdown(options=self._methods(datasets[0]), description="method")
        self.step = w.SelectionSlider(
            options=self._steps(), description="step", continuous_update=False, layout=w.Layout(width="420px")
        )
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
        return {
            "dataset": dataset,
            "method": method,
            "step": frame["step"],
            "frame": frame,
            "report": report,
            "kl": metrics.mode_histogram_kl(frame["samples"], mix.modes, mix.std),
        }

    def figure(self) -> Figure:
        """Samples over the modes and D's surface | samples per mode | metrics over training, at the chosen step."""
        s = self.state()
        mix, frame, report = self.mixtures[s["dataset"]], s["frame"], s["report"]
        fig, axes = plt.subplots(1, 3, figsize=(13, 4), gridspec_kw={"width_ratios": [1, 1.1, 1.1]})
        viz.plot_2d(
            frame["samples"],
            mix.modes,
            frame["surface"],
            self.extents[s["dataset"]],
            ax=axes[0],
            title=f"{s['method']} on the {s['dataset']}, step {s['step']}",
        )
        nearest, _ = metrics.nearest_mode(frame["samples"], mix.modes)
        all_counts = torch.bincount(nearest, minlength=mix.n_modes)
        axes[1].bar(
            range(mix.n_modes), all_counts.tolist(), color="navajowhite", width=0.8, label="nearest to the mode"
        )
        axes[1].bar(
            range(mix.n_modes), report.counts.tolist(), color="tab:orange", width=0.8, label="… and high quality"
        )
        axes[1].axhline(len(nearest) / mix.n_modes, color="k", ls=":", label="uniform")
        axes[1].set(xlabel="mode", ylabel="samples", title=f"{report}\nKL(histogram || uniform) = {s['kl']:.2f} nats")
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

    def __init__(
        self, images: Sequence[Tensor], steps: Sequence[int], nrow: int = 8, title: str = "fixed noise"
    ) -> None:
        if len(images) == 0 or len(images) != len(steps):
            raise ValueError(f"need one image batch per step, got {len(images)} batches and {len(steps)} steps")
        self.images, self.steps, self.nrow, self.title = list(images), list(steps), nrow, title
        self.step = w.SelectionSlider(
            options=self.steps,
            value=self.steps[-1],
            description="step",
            continuous_update=False,
            layout=w.Layout(width="420px"),
        )
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

    def __init__(
        self,
        models: dict[str, tuple[torch.nn.Module, torch.nn.Module]],
        images_a: Tensor,
        images_b: Tensor,
        domains: tuple[str, str] = ("A", "B"),
        classify: dict | None = None,
    ) -> None:
        from ...cyclegan import translate

        if not models:
            raise ValueError("models must name at least one pair of generators (g_ab, g_ba)")
        for name, x in (("images_a", images_a), ("images_b", images_b)):
            if not isinstance(x, Tensor) or x.dim() != 4 or len(x) == 0:
                raise ValueError(
                    f"{name} must be a non-empty batch (N, C, H, W), got "
                    f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}"
                )
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
        self.direction = w.ToggleButtons(
            options=[(f"{a} → {b} → {a}", "AB"), (f"{b} → {a} → {b}", "BA")], value="AB", description="round trip"
        )
        self.index = w.IntSlider(
            value=0,
            min=0,
            max=len(images_a) - 1,
            description="image",
            continuous_update=False,
            layout=w.Layout(width="420px"),
        )
        self.image = w.Image(format="png")
        self.ui = w.VBox([self.direction, self.index, self.image])
        self.direction.observe(self._direction_changed, names="value")
        self.index.observe(lambda _: self.redraw(), names="value")
        self.redraw()

    def __repr__(self) -> str:
        return (
            f"CycleExplorer({len(self.names)} models; showing {self.direction.value} image {self.index.value}, "
            f"cycle errors {self.cycle_errors()})"
        )

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
            panels = [
                (x, f"{src} input{self._label(src, x)}"),
                (fake, f"→ {dst}{self._label(dst, fake)}"),
                (rec, f"→ back to {src}"),
            ]
            for ax, (img, title) in zip(axes[row], panels):
                viz.show_images(img[None], nrow=1, ax=ax)
                ax.set_title(title, fontsize=8)
            im = axes[row, 3].imshow(err.numpy(), cmap="magma", vmin=0, vmax=2)
            axes[row, 3].set_title(f"|x − x_rec|, mean {errors[name]:.3f}", fontsize=8)
            axes[row, 3].axis("off")
            fig.colorbar(im, ax=axes[row, 3], fraction=0.046)
            axes[row, 0].text(
                -0.15, 0.5, name, transform=axes[row, 0].transAxes, rotation=90, va="center", ha="right", fontsize=9
            )
        fig.suptitle(f"round trip {src} → {dst} → {src}, image {i}", fontsize=10)
        fig.tight_layout()
        return fig

    def redraw(self) -> None:
        """Draw the chosen image's round trips into the widget's image."""
        self.image.value = figure_png(self.figure())


# --------------------------------------------------------------------------- notebook 08: perceptual loss
def _gram_heatmap(
    ax, gram: Tensor, title: str, cmap: str = "viridis", vmin: float | None = None, vmax: float | None = None
):
    """Draw a Gram matrix (C, C) as a heat map with a colour bar; returns the image artist."""
    im = ax.imshow(gram.numpy(), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.set_xlabel("channel j", fontsize=7)
    ax.set_ylabel("channel i", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.figure.colorbar(im, ax=ax, fraction=0.046).ax.tick_params(labelsize=6)
    return im


def _fast_png(fig: Figure, dpi: int = 80) -> bytes:
    """Like :func:`figure_png` without ``bbox_inches="tight"`` (which measures every artist: slow for many panels)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def _show_one(ax, image: Tensor, title: str) -> None:
    """Show one image (C, H, W) or (1, C, H, W) in [-1, 1] with a small title."""
    viz.show_images(image.reshape(1, *image.shape[-3:]), nrow=1, ax=ax)
    ax.set_title(title, fontsize=8)


class GramExplorer(_LiveOrStatic):
    """Look inside the style representation of a loss network: Gram matrices of VGG features.

    Mode "explore": choose an image and a layer; see the most active channels' feature maps, the layer's Gram
    matrix G = F F^T / (C H W) as a heat map, the most correlated channel pairs (the cosine G_ij / sqrt(G_ii G_jj))
    with their feature maps side by side, and a texture synthesised from that layer's Gram matrix alone (L-BFGS
    from seeded noise, ``synth_size`` px, ``synth_steps`` iterations; computed when you press the button, then
    cached per (image, layer)). Mode "compare": two images' Gram matrices at the layer, their difference, and the
    style distance ||G_a - G_b||_F^2 at every layer.

    ``loss_net``: a :class:`utils.perceptual.LossNetwork`; ``images``: {name: image (1, C, H, W) in [-1, 1], C in
    {1, 3}} (keep them small, 64-128 px, so drawing stays fast on a CPU); ``layers``: the layers offered (default:
    all of ``loss_net.layers``). Features and Gram matrices are computed once per image.
    """

    N_CHANNELS = 6  # feature maps shown: the most active channels
    N_PAIRS = 3  # correlated pairs shown side by side (the list names a few more)

    def __init__(
        self,
        loss_net,
        images: dict[str, Tensor],
        layers: Sequence[str] | None = None,
        synth_steps: int = 30,
        synth_size: int = 64,
    ) -> None:
        from ... import validate

        if not images:
            raise ValueError("images is empty: give at least one {name: image (1, C, H, W)}")
        for name, x in images.items():
            validate.images(x, f"images[{name!r}]")
            if x.shape[0] != 1:
                raise ValueError(
                    f"images[{name!r}] must be one image (1, C, H, W), got {tuple(x.shape)}; "
                    "pass x[None] for an image (C, H, W)"
                )
        layers = tuple(layers or loss_net.layers)
        unknown = [name for name in layers if name not in loss_net.layers]
        if unknown:
            raise ValueError(
                f"layers {unknown} are not computed by loss_net, which returns {list(loss_net.layers)}; "
                "build it with vgg_features(layers=...) including them"
            )
        for value, what in ((synth_steps, "synth_steps"), (synth_size, "synth_size")):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{what} must be a positive int, got {value!r}")
        self.loss_net, self.layers = loss_net, layers
        self.images = {name: x.detach().float() for name, x in images.items()}
        self.synth_steps, self.synth_size = synth_steps, synth_size
        with torch.no_grad():
            self.features = {
                name: {k: v[0] for k, v in loss_net(x).items() if k in layers} for name, x in self.images.items()
            }
        self._grams: dict[tuple[str, str], Tensor] = {}
        self.textures: dict[tuple[str, str], Tensor] = {}

        names = list(self.images)
        self.mode = w.ToggleButtons(options=["explore", "compare"], value="explore", description="mode")
        self.image_name = w.Dropdown(options=names, value=names[0], description="image")
        self.other = w.Dropdown(
            options=names, value=names[min(1, len(names) - 1)], description="vs", layout=w.Layout(display="none")
        )
        self.layer = w.ToggleButtons(options=list(layers), value=layers[0], description="layer")
        self.synth_button = w.Button(
            description="synthesise texture",
            icon="paint-brush",
            tooltip=f"L-BFGS, {synth_steps} iterations at {synth_size} px; cached",
        )
        self.image = w.Image(format="png")
        self.ui = w.VBox([self.mode, w.HBox([self.image_name, self.other, self.synth_button]), self.layer, self.image])
        for control in (self.image_name, self.other, self.layer):
            control.observe(lambda _: self.redraw(), names="value")
        self.mode.observe(self._on_mode, names="value")
        self.synth_button.on_click(self._on_synth)
        self.redraw()

    def __repr__(self) -> str:
        s = self.state()
        shown = s["image"] if s["mode"] == "explore" else f"{s['image']} vs {s['other']}"
        return (
            f"GramExplorer({len(self.images)} images, layers {list(self.layers)}; {s['mode']}: {shown} at {s['layer']})"
        )

    # --- the logic (no frontend needed) -----------------------------------------------------------------------
    def _check(self, image: str, layer: str) -> None:
        if image not in self.images:
            raise ValueError(f"unknown image {image!r}; choose one of {list(self.images)}")
        if layer not in self.layers:
            raise ValueError(f"unknown layer {layer!r}; choose one of {list(self.layers)}")

    def state(self) -> dict:
        """What the explorer shows now: {"mode", "image", "other", "layer"}."""
        return {
            "mode": self.mode.value,
            "image": self.image_name.value,
            "other": self.other.value,
            "layer": self.layer.value,
        }

    def gram(self, image: str | None = None, layer: str | None = None) -> Tensor:
        """The Gram matrix (C_l, C_l) = F F^T / (C_l H_l W_l) of one image at one layer (default: the chosen ones)."""
        from ...perceptual import gram_matrix

        image, layer = image or self.image_name.value, layer or self.layer.value
        self._check(image, layer)
        if (image, layer) not in self._grams:
            self._grams[(image, layer)] = gram_matrix(self.features[image][layer][None], "chw")[0]
        return self._grams[(image, layer)]

    def correlations(self, image: str | None = None, layer: str | None = None) -> Tensor:
        """Channel correlations (C_l, C_l): the cosine G_ij / sqrt(G_ii G_jj) of two feature maps (0 for a dead channel)."""
        g = self.gram(image, layer)
        norm = g.diagonal().clamp(min=0).sqrt()
        denom = norm[:, None] * norm[None, :]
        return torch.where(denom > 0, g / denom.clamp(min=1e-30), torch.zeros_like(g))

    def top_pairs(self, layer: str | None = None, k: int = 5, image: str | None = None) -> list[tuple[int, int, float]]:
        """The ``k`` most correlated channel pairs (i < j, correlation), largest first, of one image at one layer."""
        corr = self.correlations(image, layer)
        i, j = torch.triu_indices(len(corr), len(corr), offset=1)
        values = corr[i, j]
        order = torch.argsort(values, descending=True, stable=True)[:k]
        return [(int(i[n]), int(j[n]), float(values[n])) for n in order]

    def active_channels(self, image: str | None = None, layer: str | None = None, n: int = N_CHANNELS) -> list[int]:
        """The ``n`` channels with the largest mean squared activation (the Gram's diagonal), largest first."""
        diag = self.gram(image, layer).diagonal()
        return [int(c) for c in torch.argsort(diag, descending=True, stable=True)[:n]]

    def style_distance(self, a: str, b: str, layer: str | None = None) -> float:
        """The style loss ||G_a - G_b||_F^2 between two images at ``layer``, or summed over every layer when None."""
        layers = self.layers if layer is None else (layer,)
        return float(sum((self.gram(a, name) - self.gram(b, name)).square().sum() for name in layers))

    def synthesize(self, image: str | None = None, layer: str | None = None) -> Tensor:
        """A texture (1, C, synth_size, synth_size) whose Gram at ``layer`` matches ``image``'s (cached per pair)."""
        from ...perceptual import optimise_image

        image, layer = image or self.image_name.value, layer or self.layer.value
        self._check(image, layer)
        if (image, layer) not in self.textures:
            src = self.images[image]
            generator = torch.Generator().manual_seed(0)  # the same noise every time: results do not depend on order
            init = 0.5 * (torch.rand(1, src.shape[1], self.synth_size, self.synth_size, generator=generator) * 2 - 1)
            target = {layer: self.gram(image, layer)[None]}
            x, _ = optimise_image(
                self.loss_net, init, style=target, method="lbfgs", steps=self.synth_steps, progress=False
            )
            self.textures[(image, layer)] = x
        return self.textures[(image, layer)]

    # --- drawing ------------------------------------------------------------------------------------------------
    def figure(self) -> Figure:
        """The current view: "explore" (channels, Gram, correlated pairs, texture) or "compare" (two Grams)."""
        s = self.state()
        return (
            self._explore_figure(s["image"], s["layer"])
            if s["mode"] == "explore"
            else self._compare_figure(s["image"], s["other"], s["layer"])
        )

    def _explore_figure(self, name: str, layer: str) -> Figure:
        feats, gram = self.features[name][layer], self.gram(name, layer)
        pairs = self.top_pairs(layer, k=5, image=name)
        fig = plt.figure(figsize=(11, 7.4))
        grid = fig.add_gridspec(3, 6, height_ratios=[1.5, 1, 1])
        _show_one(
            fig.add_subplot(grid[0, 0:2]),
            self.images[name],
            f"{name}, {self.images[name].shape[-2]}×{self.images[name].shape[-1]} px",
        )
        ax = fig.add_subplot(grid[0, 2:4])
        off = gram[~torch.eye(len(gram), dtype=torch.bool)]
        _gram_heatmap(
            ax,
            gram,
            f"Gram at {layer} ({len(gram)}×{len(gram)}), G = F Fᵀ / (C H W)",
            vmax=float(off.quantile(0.99)) if off.numel() else None,
        )
        for i, j, _ in pairs[: self.N_PAIRS]:
            ax.plot([j, i], [i, j], "o", mfc="none", mec="red", ms=6)
        ax = fig.add_subplot(grid[0, 4:6])
        texture = self.textures.get((name, layer))
        if texture is None:
            ax.text(
                0.5,
                0.5,
                f"texture from the Gram at {layer}:\npress 'synthesise texture'\n"
                f"({self.synth_steps} L-BFGS iterations, {self.synth_size} px)",
                ha="center",
                va="center",
                fontsize=9,
                transform=ax.transAxes,
            )
            ax.set_axis_off()
        else:
            _show_one(ax, texture, f"texture matching the Gram at {layer}")
        for col, c in enumerate(self.active_channels(name, layer)):
            ax = fig.add_subplot(grid[1, col])
            ax.imshow(feats[c].numpy(), cmap="magma")
            ax.set_title(f"channel {c}, mean F² {float(gram[c, c]) * len(gram):.2g}", fontsize=7)
            ax.set_axis_off()
        for n, (i, j, r) in enumerate(pairs[: self.N_PAIRS]):
            for k, c in enumerate((i, j)):
                ax = fig.add_subplot(grid[2, 2 * n + k])
                ax.imshow(feats[c].numpy(), cmap="magma")
                ax.set_title(f"pair {n + 1}: channel {c}" + (f"  (r = {r:.3f})" if k == 0 else ""), fontsize=7)
                ax.set_axis_off()
        listing = "; ".join(f"{i}↔{j}: {r:.3f}" for i, j, r in pairs)
        fig.suptitle(
            f"{name} at {layer}: most active channels (middle), most correlated pairs (bottom; "
            f"r = G_ij / √(G_ii G_jj))\ntop pairs {listing}",
            fontsize=9,
        )
        fig.subplots_adjust(left=0.04, right=0.97, bottom=0.02, top=0.9, wspace=0.35, hspace=0.3)  # tight_layout: slow
        return fig

    def _compare_figure(self, a: str, b: str, layer: str) -> Figure:
        ga, gb = self.gram(a, layer), self.gram(b, layer)
        per_layer = {name: self.style_distance(a, b, name) for name in self.layers}
        fig, axes = plt.subplots(2, 3, figsize=(11, 6.6))
        _show_one(axes[0, 0], self.images[a], a)
        _show_one(axes[0, 1], self.images[b], b)
        ax = axes[0, 2]
        ax.bar(
            range(len(per_layer)),
            list(per_layer.values()),
            color=["tab:red" if name == layer else "tab:gray" for name in per_layer],
        )
        ax.set_xticks(range(len(per_layer)), list(per_layer), fontsize=7)
        ax.set_title(f"style distance per layer; sum {sum(per_layer.values()):.4g}", fontsize=8)
        vmax = float(torch.cat([ga.flatten(), gb.flatten()]).quantile(0.99))
        _gram_heatmap(axes[1, 0], ga, f"Gram of {a}", vmin=0, vmax=vmax)
        _gram_heatmap(axes[1, 1], gb, f"Gram of {b}", vmin=0, vmax=vmax)
        diff = ga - gb
        lim = float(diff.abs().flatten().quantile(0.99)) or 1.0
        _gram_heatmap(axes[1, 2], diff, f"G({a}) − G({b})", cmap="RdBu_r", vmin=-lim, vmax=lim)
        fig.suptitle(
            f"{a} vs {b} at {layer}: style distance ||G_a − G_b||²_F = {per_layer[layer]:.4g} "
            f"(over all layers {sum(per_layer.values()):.4g})",
            fontsize=10,
        )
        fig.subplots_adjust(left=0.05, right=0.94, bottom=0.07, top=0.9, wspace=0.35, hspace=0.3)
        return fig

    def redraw(self) -> None:
        """Draw the current choice into the widget's image."""
        self.image.value = _fast_png(self.figure())

    # --- reactions to the controls ---------------------------------------------------------------------------
    def _on_mode(self, _) -> None:
        explore = self.mode.value == "explore"
        self.other.layout.display = "none" if explore else None
        self.synth_button.layout.display = None if explore else "none"
        self.redraw()

    def _on_synth(self, _=None) -> None:
        self.synth_button.disabled, label = True, self.synth_button.description
        self.synth_button.description = "synthesising…"
        try:
            self.synthesize()
        finally:
            self.synth_button.disabled, self.synth_button.description = False, label
        self.redraw()


class StyleWeightsExplorer(_LiveOrStatic):
    """Browse a precomputed grid of Gatys style-transfer results over the content weight and the style weight.

    ``results`` maps ``(content_weight, style_weight)`` to a result image (1, C, H, W) in [-1, 1], one for every
    pair of the two weight lists (a full grid); ``content`` and ``style`` are the inputs (1, C, H, W). The live view
    shows content | style | the chosen result; the static picture (no widget frontend) is the whole grid.
    """

    def __init__(self, results: Mapping[tuple[float, float], Tensor], content: Tensor, style: Tensor) -> None:
        from itertools import product

        from ... import validate

        if not results:
            raise ValueError("results is empty: give {(content_weight, style_weight): image (1, C, H, W)}")
        for key in results:
            if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(v, (int, float)) for v in key)):
                raise ValueError(
                    f"results must be keyed by (content_weight, style_weight) pairs of numbers, got {key!r}"
                )
        self.content_weights = sorted({float(c) for c, _ in results})
        self.style_weights = sorted({float(s) for _, s in results})
        found = {(float(c), float(s)) for c, s in results}
        missing = [pair for pair in product(self.content_weights, self.style_weights) if pair not in found]
        if missing:
            raise ValueError(
                f"results is not a full grid over content weights {self.content_weights} x style weights "
                f"{self.style_weights}: missing {missing[:6]}{' ...' if len(missing) > 6 else ''}; "
                "compute one result for every pair"
            )
        for name, x in (("content", content), ("style", style)):
            validate.images(x, name)
            if x.shape[0] != 1:
                raise ValueError(f"{name} must be one image (1, C, H, W), got {tuple(x.shape)}")
        shape = None
        for key, x in results.items():
            validate.images(x, f"results[{key}]")
            if x.shape[0] != 1:
                raise ValueError(f"results[{key}] must be one image (1, C, H, W), got {tuple(x.shape)}")
            if shape is not None and x.shape != shape:
                raise ValueError(
                    f"every result must have the same shape: results[{key}] is {tuple(x.shape)}, "
                    f"others are {tuple(shape)}"
                )
            shape = x.shape
        self.results = {(float(c), float(s)): x.detach() for (c, s), x in results.items()}
        self.content, self.style = content.detach(), style.detach()

        def slider(values: list[float], description: str) -> w.SelectionSlider:
            return w.SelectionSlider(
                options=[(f"{v:g}", v) for v in values],
                value=values[len(values) // 2],
                description=description,
                continuous_update=False,
                style={"description_width": "initial"},
                layout=w.Layout(width="420px"),
            )

        self.content_weight = slider(self.content_weights, "content weight α")
        self.style_weight = slider(self.style_weights, "style weight β")
        self.image = w.Image(format="png")
        self.ui = w.VBox([self.content_weight, self.style_weight, self.image])
        for control in (self.content_weight, self.style_weight):
            control.observe(lambda _: self.redraw(), names="value")
        self.redraw()

    def __repr__(self) -> str:
        return (
            f"StyleWeightsExplorer({len(self.content_weights)}x{len(self.style_weights)} grid; showing "
            f"content weight {self.content_weight.value:g}, style weight {self.style_weight.value:g})"
        )

    def current(self) -> Tensor:
        """The chosen result (1, C, H, W)."""
        return self.results[(self.content_weight.value, self.style_weight.value)]

    def figure(self) -> Figure:
        """The live view: content | style | the result at the chosen weights."""
        a, b = self.content_weight.value, self.style_weight.value
        fig, axes = plt.subplots(1, 3, figsize=(9, 3.4))
        _show_one(axes[0], self.content, "content")
        _show_one(axes[1], self.style, "style")
        _show_one(axes[2], self.current(), f"α = {a:g}, β = {b:g} (β/α = {b / a if a else float('inf'):.3g})")
        fig.tight_layout()
        return fig

    def grid_figure(self) -> Figure:
        """The static picture: every result, content weights down the rows, style weights across the columns."""
        rows, cols = len(self.content_weights), len(self.style_weights)
        fig, axes = plt.subplots(rows, cols, figsize=(1.9 * cols + 0.6, 1.9 * rows + 0.5), squeeze=False)
        for r, a in enumerate(self.content_weights):
            for c, b in enumerate(self.style_weights):
                ax = axes[r, c]
                viz.show_images(self.results[(a, b)], nrow=1, ax=ax)
                ax.set_axis_on()
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(f"β = {b:g}", fontsize=8)
                if c == 0:
                    ax.set_ylabel(f"α = {a:g}", fontsize=8)
        fig.suptitle("Gatys et al.: content weight α (rows) × style weight β (columns)", fontsize=10)
        fig.tight_layout()
        return fig

    def redraw(self) -> None:
        """Draw the chosen result into the widget's image."""
        self.image.value = figure_png(self.figure())

    def _repr_mimebundle_(self, **kwargs) -> dict:
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["image/png"] = base64.b64encode(figure_png(self.grid_figure())).decode("ascii")  # the whole grid
        return bundle
