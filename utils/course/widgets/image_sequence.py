"""ImageSequenceViewer: slide through image grids recorded over training (notebook 04)."""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as w
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from torch import Tensor

from ... import viz
from .base import _LiveOrStatic, figure_png


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
