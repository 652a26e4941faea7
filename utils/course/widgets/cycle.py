"""CycleExplorer: follow an image's round trip through CycleGAN generators (notebook 07)."""

from __future__ import annotations

import ipywidgets as w
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor

from ... import viz
from .base import _LiveOrStatic, figure_png


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
