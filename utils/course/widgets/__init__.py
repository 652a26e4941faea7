"""Widgets: explore recorded training runs without retraining.

Each explorer draws with matplotlib into an ``ipywidgets.Image``, so moving a control redraws at once. Shown in a
notebook, it also carries a PNG of its current view: JupyterLab renders the live widget, while a plain viewer
(GitHub, nbviewer) or a run without a widget frontend falls back to the static picture.

The explorers live one per module (``base`` holds the shared display mixin and PNG helpers); this package
re-exports them, so ``from utils.course.widgets import CycleExplorer`` and ``widgets.GramExplorer`` both work.
"""

from __future__ import annotations

from .base import _fast_png as _fast_png  # private helpers re-exported for scripts and tests
from .base import _LiveOrStatic as _LiveOrStatic
from .base import _show_one as _show_one
from .base import figure_png
from .cycle import CycleExplorer
from .gram import GramExplorer
from .gram import _gram_heatmap as _gram_heatmap
from .image_sequence import ImageSequenceViewer
from .mode_collapse import FRAME_KEYS, ModeCollapseExplorer
from .style_weights import StyleWeightsExplorer

__all__ = [
    "FRAME_KEYS",
    "CycleExplorer",
    "GramExplorer",
    "ImageSequenceViewer",
    "ModeCollapseExplorer",
    "StyleWeightsExplorer",
    "figure_png",
]
