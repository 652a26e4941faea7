#!/usr/bin/env python3
"""Write every notebook cell marked ``# @save utils/<module>.py`` into that module: the notebook is the one source.

A lesson builds its code in small cells. A cell whose first line is ``# @save utils/cyclegan.py`` is copied, without
that line, into ``utils/cyclegan.py`` between two marker comments that name the notebook. The cells of one notebook
for one module go there together, in notebook order. Never edit the code between the markers: edit the notebook
cell, then run this (``make save``). Code outside the markers (imports, helpers no lesson shows) is written by hand.

    python scripts/save_code.py            # rewrite the saved code in utils/
    python scripts/save_code.py --check    # exit 1 if utils/ differs from the notebooks (tests/test_saved_code.py)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
HEADER = re.compile(r"^# ?@save(?:[ \t]+(\S+))?[ \t]*$")
BEGIN = "# >>> saved from {nb} (edit it there, then run `make save`) >>>"
END = "# <<< end of the code saved from {nb} <<<"
REGION = re.compile(r"(?m)^# >>> saved from (\S+) [^\n]*>>>\n(.*?)^# <<< end of the code saved from \1 <<<$\n?", re.S)


def saved_cells(nb_path: Path) -> list[tuple[str, str]]:
    """(target module path, code) for each ``# @save`` cell of a notebook, in order."""
    found = []
    for i, cell in enumerate(json.loads(nb_path.read_text())["cells"]):
        src = "".join(cell["source"])
        first, _, body = src.partition("\n")
        if cell["cell_type"] != "code" or not re.match(r"# ?@save\b", first):
            continue
        match = HEADER.match(first)
        if not match or not match.group(1):
            raise SystemExit(
                f"{nb_path.name} cell {i}: write the target module after # @save, e.g. '# @save utils/cyclegan.py'"
            )
        target = match.group(1)
        if not (target.startswith("utils/") and target.endswith(".py") and (ROOT / target).is_file()):
            raise SystemExit(f"{nb_path.name} cell {i}: # @save names {target!r}, which is not a module in utils/")
        found.append((target, body.strip("\n")))
    return found


def expected_regions() -> dict[str, dict[str, str]]:
    """module path -> {notebook path: the code its saved cells give that module}."""
    regions: dict[str, dict[str, str]] = {}
    for nb_path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nb_path.relative_to(ROOT).as_posix()
        for target, code in saved_cells(nb_path):
            parts = regions.setdefault(target, {})
            parts[nb] = parts[nb] + "\n\n\n" + code if nb in parts else code
    return regions


def render(text: str, module: str, parts: dict[str, str]) -> str:
    """``text`` of ``module`` with each notebook's region replaced by that notebook's saved code."""
    present = {m.group(1) for m in REGION.finditer(text)}
    missing, stale = set(parts) - present, present - set(parts)
    if missing:
        raise SystemExit(
            f"{module} has no markers for {sorted(missing)}: add the two lines\n"
            f"{BEGIN.format(nb=sorted(missing)[0])}\n{END.format(nb=sorted(missing)[0])}\n"
            "where that code belongs (after the imports and constants it uses), then run this again"
        )
    if stale:
        raise SystemExit(f"{module} has markers for {sorted(stale)}, which saves nothing there now: delete them")

    def fill(m: re.Match) -> str:
        nb = m.group(1)
        return f"{BEGIN.format(nb=nb)}\n{parts[nb]}\n{END.format(nb=nb)}\n"

    return REGION.sub(fill, text)


def formatted(text: str, path: Path) -> str:
    """``text`` as ``ruff format`` writes it (with the project's settings), so saved code and lint agree."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(path), "-"],
            input=text,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
    except FileNotFoundError:  # pragma: no cover
        raise SystemExit("ruff is missing: pip install -e '.[dev]' (make save does it)") from None
    if done.returncode != 0:
        raise SystemExit(f"ruff could not format {path}:\n{done.stderr}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if utils/ is out of date")
    args = parser.parse_args()
    regions = expected_regions()
    for path in sorted((ROOT / "utils").rglob("*.py")):  # a module whose notebook stopped saving into it
        module = path.relative_to(ROOT).as_posix()
        if module not in regions and REGION.search(path.read_text()):
            regions[module] = {}
    stale = []
    for module, parts in sorted(regions.items()):
        path = ROOT / module
        old = path.read_text()
        new = formatted(render(old, module, parts), path)
        if new != old:
            stale.append(module)
            if not args.check:
                path.write_text(new)
    if args.check and stale:
        print(
            f"out of date with the notebooks' # @save cells: {', '.join(stale)}\n"
            "run `make save` (python scripts/save_code.py), and edit saved code in the notebook, not in utils/"
        )
        return 1
    print(
        ("checked" if args.check else "saved") + f": {sum(map(len, regions.values()))} notebook regions in "
        f"{len(regions)} modules" + (f" ({len(stale)} rewritten)" if stale and not args.check else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
