#!/usr/bin/env python3
"""Measure notebook 06's super-resolution models over several seeds and write the table the notebook shows.

For each seed, trains the notebook's three models with its learner-mode recipe (``utils.superres.recipe()``), one
after another in this single process: the SRResNet with L2, the SRResNet with L1, and the L1 model fine-tuned with
L1 + the conditional adversarial loss. Each is scored on every 64x64 tile of the held-out photo (never trained on):
PSNR and sharpness (mean gradient magnitude over the truth's), beside the bicubic baseline. Run it on an idle machine:

    python scripts/measure_superres.py                    # 3 seeds, ~20 min on 1 CPU thread
    python scripts/measure_superres.py --seeds 0 --out /tmp/try.json
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
DEFAULT_OUT = ROOT / "notebooks" / "data" / "superres_results.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for PyTorch")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    os.environ.setdefault("TQDM_DISABLE", "1")
    if os.environ.get("COURSE_QUICK", "0") not in ("", "0"):
        print("note: COURSE_QUICK is set, so these are quick-mode (CI) figures, not the learner-mode ones")

    import utils
    from utils import superres

    recipe = superres.recipe()
    lr_test, hr_test = superres.tiles(size=recipe["size"])
    start = time.perf_counter()
    rows = [
        {
            "model": "bicubic",
            "seed": None,
            "seconds": 0.0,
            **{k: round(v, 3) for k, v in superres.evaluate(superres.bicubic_upsample, lr_test, hr_test).items()},
        }
    ]
    print(json.dumps(rows[-1]), flush=True)
    for seed in args.seeds:
        models, histories = superres.train_models(seed, recipe, threads=args.threads)
        for name, model in models.items():
            scores = superres.evaluate(model, lr_test, hr_test)
            rows.append(
                {
                    "model": name,
                    "seed": seed,
                    "seconds": round(histories[name].seconds, 1),
                    **{k: round(v, 3) for k, v in scores.items()},
                }
            )
            print(json.dumps(rows[-1]), flush=True)

    summary = {}
    for name in ["bicubic", *superres.MODELS]:
        mine = [r for r in rows if r["model"] == name]
        summary[name] = {
            key: [
                round(statistics.mean(r[key] for r in mine), 3),
                round(statistics.stdev(r[key] for r in mine), 3) if len(mine) > 1 else 0.0,
            ]
            for key in ("psnr", "sharpness", "seconds")
        }
    result = {
        "about": "notebook 06's measured figures: mean and standard deviation over seeds of each model's PSNR (dB) and "
        "sharpness (mean gradient magnitude over the truth's) on every tile of the held-out photo; "
        "regenerate with `python scripts/measure_superres.py`",
        "mode": "quick (CI)" if utils.quick_mode() else "learner",
        "seeds": args.seeds,
        "held_out": superres.HELD_OUT,
        "tiles": len(hr_test),
        "recipe": recipe,
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
