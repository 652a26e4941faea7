"""Shared pieces of the explorers: PNG rendering, the live-or-static display mixin, small drawing helpers."""

from __future__ import annotations

import base64
import io

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from torch import Tensor

from ... import viz


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


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
