#!/usr/bin/env python3
"""Measure the mode-collapse remedies of notebook 03 over several seeds and write the table the notebook shows.

Trains every method of ``utils.remedies`` on the 8-mode ring and the 25-mode grid in learner mode (the step
counts of ``utils.remedies.STEPS``), one run after another in this single process, and scores each run's final
generator on 2,500 samples: modes captured, % high-quality samples and the KL divergence of the mode histogram
from uniform. Each run's training time is ``train_gan``'s wall time. Run it on an otherwise idle machine:

    python scripts/measure_mode_collapse.py                     # 3 seeds, all methods, ~35 min on 2 CPU cores
    python scripts/measure_mode_collapse.py --seeds 0 --methods plain PacGAN --datasets ring --out /tmp/try.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "notebooks" / "data" / "mode_collapse_results.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=None, help="default: all of utils.remedies.METHODS")
    parser.add_argument("--datasets", nargs="+", default=["ring", "grid"])
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads for PyTorch (1: the 2-D networks gain nothing from more)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    os.environ.setdefault("TQDM_DISABLE", "1")
    if os.environ.get("COURSE_QUICK", "0") not in ("", "0"):
        print("note: COURSE_QUICK is set, so these are quick-mode (CI) step counts, not the learner-mode figures")

    import utils
    from utils import remedies

    methods = args.methods or list(remedies.METHODS)
    start = time.perf_counter()
    rows = []
    for seed in args.seeds:
        runs, histories = remedies.train_runs(
            methods, args.datasets, seed=seed, frames=1, resolution=2, threads=args.threads
        )
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
                    "seconds": round(histories[dataset, method].seconds, 1),
                }
            )
            print(json.dumps(rows[-1]), flush=True)

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


if __name__ == "__main__":
    sys.exit(main())
