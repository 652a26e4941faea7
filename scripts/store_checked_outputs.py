#!/usr/bin/env python3
"""Execute course notebooks in quick mode and store only the outputs that nbval compares.

nbval runs in lax mode (see CONTRIBUTING.md, "How the tests work"): only cells whose source starts with
``# NBVAL_CHECK_OUTPUT`` have their output compared, so only those keep a stored output in git; every other
output is cleared to keep the notebooks small. Run after changing such a cell:

    python scripts/store_checked_outputs.py notebooks/02_gan_from_scratch.ipynb
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MARK = "# NBVAL_CHECK_OUTPUT"


def is_checked(cell: nbformat.NotebookNode) -> bool:
    """True for a code cell whose output nbval compares."""
    return cell.cell_type == "code" and cell.source.lstrip().startswith(MARK)


def store(path: Path) -> None:
    """Run the notebook in quick mode next to itself; keep outputs of checked cells only."""
    nb = nbformat.read(path, as_version=4)
    os.environ.update(COURSE_QUICK="1", TQDM_DISABLE="1", COURSE_THREADS="2")
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if cell.cell_type == "code" and not is_checked(cell):
            cell.execution_count = None  # nbval needs the count on checked cells ("unrun cell has outputs")
            cell.outputs = []
        elif cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if o.output_type != "display_data"]
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    print(f"stored checked outputs of {path}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        store(Path(arg))
