"""GramExplorer: look inside the Gram-matrix style representation of a loss network (notebook 08)."""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as w
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor

from .base import _fast_png, _LiveOrStatic, _show_one


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
        """Channel correlations (C_l, C_l): the cosine G_ij / sqrt(G_ii G_jj) of two maps (0 for a dead channel)."""
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

    def synthesise(self, image: str | None = None, layer: str | None = None) -> Tensor:
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
            self.synthesise()
        finally:
            self.synth_button.disabled, self.synth_button.description = False, label
        self.redraw()
