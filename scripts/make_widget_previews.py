#!/usr/bin/env python3
"""Save a static picture of each interactive widget for viewers without a widget frontend (GitHub, nbviewer).

Notebooks are kept in git without outputs, so a plain viewer would show nothing where a widget runs. This script
executes a notebook up to its widget cell (quick mode by default), sets what the widget shows, draws the widget's
figure (the same one its live view shows), and writes it to ``notebooks/figures/``; a markdown cell above the
widget shows it. Run it after changing a widget or the cells before it:

    python scripts/make_widget_previews.py            # quick mode: about 2 minutes on 2 cores
    python scripts/make_widget_previews.py 07         # only the notebooks whose names start with 07
    python scripts/make_widget_previews.py --learner  # the learner's settings (notebook 03 trains for 18 minutes)
"""

from __future__ import annotations

import argparse
import base64
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
DPI = 56
FIGURES = ROOT / "notebooks" / "figures"
#: notebook -> (text that marks the widget's cell, code that sets the state to picture, the picture's file name)
PREVIEWS = {
    "03_mode_collapse.ipynb": (
        "explorer.show()",
        # the ring, at the last step, with the method that captures the most modes there
        "explorer.dataset.value = 'ring'\n"
        "explorer.method.value = max(explorer.method.options,\n"
        "                            key=lambda m: explorer.history('ring', m)[-1].modes_captured)\n"
        "explorer.step.value = explorer.step.options[-1]\n"
        "explorer.redraw()",
        "03_mode_collapse_lab.png",
    ),
    "07_cyclegan.ipynb": (
        "explorer = CycleExplorer(",
        # a held-out handwritten 2 (index 2) on its round trip through both shipped models
        "explorer.index.value = 2\nexplorer.redraw()",
        "07_cycle_explorer.png",
    ),
    "08_perceptual_loss_and_style_transfer.ipynb": ("explorer = GramExplorer(", "", "08_gram_explorer.png"),
}


def widget_png(notebook: Path, marker: str, setup: str = "") -> bytes:
    """Execute ``notebook`` up to the first code cell containing ``marker`` (whose last line names the widget), run
    ``setup`` to choose what it shows, and return its figure as a PNG (at ``DPI``, small enough for git)."""
    nb = nbformat.read(notebook, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and marker in c.source)
    show = (
        "from IPython.display import Image\nfrom utils.course.widgets import figure_png\n"
        f"Image(figure_png(explorer.figure(), dpi={DPI}))"
    )
    nb.cells = nb.cells[: at + 1] + [nbformat.v4.new_code_cell(setup + "\n" + show)]
    NotebookClient(
        nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}
    ).execute()
    for output in nb.cells[-1].outputs:
        if "image/png" in output.get("data", {}):
            return base64.b64decode(output["data"]["image/png"])
    raise RuntimeError(f"{notebook.name}: the widget after the cell with {marker!r} published no image/png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learner", action="store_true", help="learner mode instead of quick mode")
    parser.add_argument("only", nargs="*", help="notebook name prefixes (default: every notebook with a widget)")
    args = parser.parse_args()
    os.environ["TQDM_DISABLE"] = "1"
    if args.learner:
        os.environ.pop("COURSE_QUICK", None)
    else:
        os.environ["COURSE_QUICK"] = "1"
    FIGURES.mkdir(exist_ok=True)
    chosen = {n: v for n, v in PREVIEWS.items() if not args.only or n.startswith(tuple(args.only))}
    if not chosen:
        parser.error(f"no notebook with a widget starts with {args.only}; choose from {list(PREVIEWS)}")
    for name, (marker, setup, picture) in chosen.items():
        png = widget_png(ROOT / "notebooks" / name, marker, setup)
        (FIGURES / picture).write_bytes(png)
        print(f"{name}: wrote notebooks/figures/{picture} ({len(png) // 1024} KB)")


if __name__ == "__main__":
    main()
