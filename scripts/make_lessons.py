#!/usr/bin/env python3
"""Generate the exercise notebooks in lessons/ from the solved ones in solutions/ (the one source).

In a solution notebook, the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` (markers included)
become a blank that raises ``NotImplementedError``; outputs are cleared. Run it after editing a solution:

    python scripts/make_lessons.py            # rewrite lessons/
    python scripts/make_lessons.py --check    # exit 1 if lessons/ is out of date (tests/test_lessons.py does this)
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
BLANK = (
    "{indent}# YOUR CODE HERE\n"
    '{indent}raise NotImplementedError("Exercise: fill in this block (see the instructions above)")'
)


def blank_out(source: str) -> str:
    """Replace every BEGIN/END SOLUTION block in a cell's source with the exercise blank."""
    out: list[str] = []
    indent: str | None = None
    for line in source.split("\n"):
        if indent is None:
            m = BEGIN.match(line)
            if m:
                indent = m.group(1)
                out.append(BLANK.format(indent=indent))
            else:
                out.append(line)
        elif END.match(line):
            indent = None
    if indent is not None:
        raise ValueError("a '# BEGIN SOLUTION' has no matching '# END SOLUTION'")
    return "\n".join(out)


def make_lesson(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The lesson notebook for a solution notebook: solution blocks blanked, outputs cleared."""
    lesson = copy.deepcopy(solution)
    for cell in lesson.cells:
        if cell.cell_type == "code":
            cell.source = blank_out(cell.source)
            cell.outputs = []
            cell.execution_count = None
    return lesson


def lesson_text(solution_path: Path) -> str:
    """The exact text that lessons/<name> must contain for solutions/<name>."""
    nb = nbformat.read(solution_path, as_version=4)
    return nbformat.writes(make_lesson(nb)) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report lessons that differ; exit 1 if any")
    args = parser.parse_args()
    stale = []
    for sol in sorted((ROOT / "solutions").glob("*.ipynb")):
        target = ROOT / "lessons" / sol.name
        text = lesson_text(sol)
        if target.exists() and target.read_text() == text:
            continue
        stale.append(target.relative_to(ROOT))
        if not args.check:
            target.write_text(text)
    orphans = sorted(
        {p.name for p in (ROOT / "lessons").glob("*.ipynb")} - {p.name for p in (ROOT / "solutions").glob("*.ipynb")}
    )
    for name in stale:
        print(("out of date: " if args.check else "wrote ") + str(name))
    for name in orphans:
        print(f"lessons/{name} has no solutions/{name}")
    return 1 if (args.check and stale) or orphans else 0


if __name__ == "__main__":
    sys.exit(main())
