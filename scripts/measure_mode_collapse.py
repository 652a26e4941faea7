#!/usr/bin/env python3
"""Measure the mode-collapse remedies of notebook 03 over several seeds; record the runs the notebook's lab shows.

Trains every method of ``utils.remedies`` on the 8-mode ring and the 25-mode grid in learner mode (the step
counts of ``utils.remedies.STEPS``), one run after another in this single process, and scores each run's final
generator on 2,500 samples: modes captured, % high-quality samples and the KL divergence of the mode histogram
from uniform. Each run's training time is ``train_gan``'s wall time. The runs of the first seed are also
recorded, 20 snapshots each (1,000 of the samples and D's 60 x 60 surface), into ``mode_collapse_runs.npz``:
notebook 03 browses them in its lab instead of training all twelve. Run it on an otherwise idle machine:

    python scripts/measure_mode_collapse.py                     # 3 seeds, all methods, ~50 min on 2 CPU cores
    python scripts/measure_mode_collapse.py --seeds 0 --runs-only   # only re-record the lab's runs (~17 min)
    python scripts/measure_mode_collapse.py --seeds 0 --methods plain PacGAN --datasets ring --out /tmp/try.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "notebooks" / "data" / "mode_collapse_results.json"
DEFAULT_RUNS = ROOT / "notebooks" / "data" / "mode_collapse_runs.npz"
#: What the lab keeps of each recorded run: snapshots, samples per snapshot, resolution of D's surface.
FRAMES, LAB_SAMPLES, RESOLUTION = 20, 1000, 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=None, help="default: all of utils.remedies.METHODS")
    parser.add_argument("--datasets", nargs="+", default=["ring", "grid"])
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads for PyTorch (1: the 2-D networks gain nothing from more)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--runs-out", type=Path, default=DEFAULT_RUNS, help="the recorded runs of the first seed")
    parser.add_argument(
        "--runs-only",
        action="store_true",
        help="train the first seed only, write --runs-out and compare its scores with the stored table (--out is "
        "left alone)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="train this many runs at once, in separate processes (the scores do not change; the training times "
        "are only comparable with --jobs 1, the default)",
    )
    args = parser.parse_args()

    os.environ.setdefault("TQDM_DISABLE", "1")
    if os.environ.get("COURSE_QUICK", "0") not in ("", "0"):
        print("note: COURSE_QUICK is set, so these are quick-mode (CI) step counts, not the learner-mode figures")

    import utils
    from utils import remedies
    from utils.course.widgets.mode_collapse import save_runs

    methods = args.methods or list(remedies.METHODS)
    start = time.perf_counter()
    rows = []
    for seed in args.seeds[:1] if args.runs_only else args.seeds:
        record = seed == args.seeds[0]  # snapshots do not change training: the callback draws no random numbers
        settings = dict(seed=seed, frames=FRAMES if record else 1, resolution=RESOLUTION if record else 2)
        runs, seconds = train(methods, args.datasets, args.jobs, threads=args.threads, **settings)
        if record:
            about = {
                "about": f"notebook 03's lab: the runs of seed {seed}, {FRAMES} snapshots each ({LAB_SAMPLES} "
                f"samples on fixed noise and D's {RESOLUTION} x {RESOLUTION} surface); regenerate with "
                "`python scripts/measure_mode_collapse.py --seeds 0 --runs-only`",
                "mode": "quick (CI)" if utils.quick_mode() else "learner",
                "seed": seed,
                "seconds": {f"{d}/{m}": round(t, 1) for (d, m), t in seconds.items()},
                **utils.settings.machine(),
            }
            save_runs(args.runs_out, runs, about, n_samples=LAB_SAMPLES)
            print(f"wrote {args.runs_out} ({args.runs_out.stat().st_size // 1024} KB)", flush=True)
        for (dataset, method), frames in runs.items():
            scores = remedies.run_metrics(frames, remedies.MIXTURES[dataset]())
            rows.append(
                {
                    "dataset": dataset,
                    "method": method,
                    "seed": seed,
                    "steps": frames[-1]["step"],
                    "modes": scores["modes"],
                    "high_quality": round(scores["high_quality"], 2),
                    "kl": round(scores["kl"], 4),
                    "seconds": round(seconds[dataset, method], 1),
                }
            )
            print(json.dumps(rows[-1]), flush=True)

    if args.runs_only:
        return compare_with_stored(rows, args.out)
    summary: dict = {}
    for dataset in args.datasets:
        for method in methods:
            mine = [r for r in rows if r["dataset"] == dataset and r["method"] == method]
            summary.setdefault(dataset, {})[method] = {
                key: [
                    round(statistics.mean(r[key] for r in mine), 3),
                    round(statistics.stdev(r[key] for r in mine), 3) if len(mine) > 1 else 0.0,
                ]
                for key in ("modes", "high_quality", "kl", "seconds")
            }
    result = {
        "about": "notebook 03's measured figures: mean and standard deviation over seeds of each method's final "
        "generator (2,500 samples); regenerate with `python scripts/measure_mode_collapse.py`",
        "mode": "quick (CI)" if utils.quick_mode() else "learner",
        "seeds": args.seeds,
        "steps": {d: {m: remedies.default_steps(m, d) for m in methods} for d in args.datasets},
        **utils.settings.machine(),
        "total_minutes": round((time.perf_counter() - start) / 60, 1),
        "summary": summary,
        "runs": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out} ({result['total_minutes']} min)")
    return 0


def _train_one(dataset: str, method: str, **settings) -> tuple[list[dict], float]:
    from utils import remedies

    runs, histories = remedies.train_runs([method], [dataset], **settings)
    return runs[dataset, method], histories[dataset, method].seconds


def train(
    methods: list[str], datasets: list[str], jobs: int, **settings
) -> tuple[dict[tuple[str, str], list[dict]], dict[tuple[str, str], float]]:
    """Train every method on every dataset (``remedies.train_runs``), ``jobs`` runs at a time; return the frames and
    the training times keyed by ``(dataset, method)``, in the order ``train_runs`` uses."""
    keys = [(d, m) for d in datasets for m in methods]
    if jobs <= 1:
        results = [_train_one(d, m, **settings) for d, m in keys]
    else:  # every run seeds itself, so a run gives the same result in any process
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(partial(_train_one, **settings), *zip(*keys)))
    return {k: r[0] for k, r in zip(keys, results)}, {k: r[1] for k, r in zip(keys, results)}


def compare_with_stored(rows: list[dict], stored_path: Path) -> int:
    """Print each new run's scores next to the stored table's row for the same run; 0 if every score matches."""
    stored = json.loads(stored_path.read_text())["runs"] if stored_path.is_file() else []
    same = True
    for row in rows:
        old = next((r for r in stored if all(r[k] == row[k] for k in ("dataset", "method", "seed", "steps"))), None)
        match = old is not None and all(old[k] == row[k] for k in ("modes", "high_quality", "kl"))
        same &= match
        print(
            f"{row['dataset']:>4} {row['method']:>14}: now {row['modes']} modes, {row['high_quality']} % HQ, "
            f"KL {row['kl']} | stored: {old and (old['modes'], old['high_quality'], old['kl'])} "
            f"{'same' if match else 'DIFFERENT'}"
        )
    print("every score matches the stored table" if same else "some scores differ from the stored table")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
