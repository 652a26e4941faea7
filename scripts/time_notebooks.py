#!/usr/bin/env python3
"""Time each course notebook in learner mode, from the top: the whole run and the first picture.

    python scripts/time_notebooks.py                    # every notebook 00-10 and the appendix, one after the other
    python scripts/time_notebooks.py 03 05              # only these (the others' records are kept)

Each notebook runs on a copy (the notebook in git is not touched) in its own folder, with the course kernel and
without COURSE_QUICK. The seconds are wall-clock time from the start of the first cell: "total" to the end of the
last, "first_picture" to the end of the first cell that shows an image. Run it on an idle machine: the record
keeps the machine, its load average before each run and the commit, and the README's time column quotes it
(tests/test_notebook_times.py checks both).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
RECORD = NOTEBOOKS / "data" / "notebook_times.json"
PICTURES = ("image/png", "image/svg+xml", "image/jpeg")


def time_notebook(path: Path, timeout: int = 1200) -> dict:
    """Run one notebook in learner mode; seconds to its first picture and to its end."""
    nb = nbformat.read(path, as_version=4)
    marks: dict[str, float] = {}

    def on_cell_start(cell, cell_index):
        marks.setdefault("start", time.perf_counter())

    def on_cell_executed(cell, cell_index, execute_reply):
        now = time.perf_counter()
        marks["end"] = now
        if "first_picture" not in marks and any(
            key in out.get("data", {}) for out in cell.get("outputs", []) for key in PICTURES
        ):
            marks["first_picture"] = now

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=nb.metadata["kernelspec"]["name"],
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
    )
    client.execute()  # the kernel inherits this process's environment: learner mode (see main)
    start = marks["start"]
    return {
        "total_s": round(marks["end"] - start, 1),
        "first_picture_s": round(marks["first_picture"] - start, 1) if "first_picture" in marks else None,
    }


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "unknown CPU",
    )
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="notebook numbers (00-10) or 'appendix'; default: all")
    args = parser.parse_args()
    os.environ.pop("COURSE_QUICK", None)  # learner mode
    os.environ["TQDM_DISABLE"] = "1"
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.only:
        paths = [p for p in paths if any(p.name.startswith(o) for o in args.only)]
    record = json.loads(RECORD.read_text()) if RECORD.exists() else {"notebooks": {}}
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    for path in paths:
        load = os.getloadavg()[0]
        print(f"{path.name}: running in learner mode (load average {load:.2f}) ...", flush=True)
        result = time_notebook(path)
        result.update(load_before=round(load, 2), date=time.strftime("%Y-%m-%d"), commit=commit.stdout.strip())
        record["notebooks"][path.stem] = result
        record["machine"] = machine()
        record["how"] = "python scripts/time_notebooks.py (learner mode, wall clock, from the first cell)"
        RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"  total {result['total_s']:.0f} s, first picture after {result['first_picture_s']} s", flush=True)


if __name__ == "__main__":
    main()
