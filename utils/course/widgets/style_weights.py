"""StyleWeightsExplorer: browse a grid of style-transfer results over content and style weights (notebook 08)."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import ipywidgets as w
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from torch import Tensor

from ... import viz
from .base import _LiveOrStatic, _show_one, figure_png


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
