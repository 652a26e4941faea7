"""Each notebook's learner-mode time, as recorded by scripts/time_notebooks.py, and the README's time column.

A learner has one evening: every notebook must run from the top in at most 10 minutes on a 2-core laptop, and
show its first picture within 30 seconds. The record is made on an idle machine (scripts/time_notebooks.py);
the README quotes it, and this test keeps the two in step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "notebooks" / "data" / "notebook_times.json"
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
MAX_TOTAL_S = 600
MAX_FIRST_PICTURE_S = 30


def record() -> dict:
    return json.loads(RECORD.read_text())["notebooks"]


def minutes(seconds: float) -> str:
    """How the README writes a time: '40 s' under a minute, else whole or half minutes ('3 min', '7½ min')."""
    if seconds < 45:
        return f"{max(5, int(seconds / 5 + 0.5) * 5)} s"
    halves = int(seconds / 30 + 0.5)
    whole, half = divmod(halves, 2)
    return f"{whole}{'½' if half else ''} min"


@pytest.mark.parametrize("name", sorted(record()))
def test_each_timed_notebook_runs_in_ten_minutes_and_shows_a_picture_early(name):
    assert name in NOTEBOOKS, f"{name} is recorded but no longer exists: remove it from {RECORD.name}"
    rec = record()[name]
    assert rec["total_s"] <= MAX_TOTAL_S, f"{name}: {rec['total_s']:.0f} s in learner mode, more than 10 minutes"
    assert rec["first_picture_s"] is not None, f"{name}: no picture at all"
    assert rec["first_picture_s"] <= MAX_FIRST_PICTURE_S, (
        f"{name}: the first picture comes after {rec['first_picture_s']:.0f} s: show something sooner"
    )


def start_page_markdown() -> str:
    cells = json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


@pytest.mark.parametrize("where", ["README.md", "00_start_here"])
def test_the_chapter_tables_quote_the_recorded_times(where):
    text = (ROOT / "README.md").read_text() if where == "README.md" else start_page_markdown()
    for name, rec in record().items():
        if not re.match(r"\d\d_", name) or name.startswith("00"):
            continue
        row = next((line for line in text.splitlines() if line.startswith("|") and name in line), None)
        assert row, f"{where}: no row of the chapter table names {name}"
        assert minutes(rec["total_s"]) in row, (
            f"{where}: the row of {name} should say {minutes(rec['total_s'])} (notebooks/data/notebook_times.json)"
        )


def test_minutes_are_written_the_readme_way():
    assert [minutes(s) for s in (3, 42, 59, 61, 100, 135, 599)] == [
        "5 s",
        "40 s",
        "1 min",
        "1 min",
        "1½ min",
        "2½ min",
        "10 min",
    ]
