#!/usr/bin/env python3
"""Train notebook 06's shipped super-resolution models: the notebook's own learner-mode recipe, seed 0.

Two models of utils.superres, trained as utils.superres.train_models trains them (the same seeds, crops and steps):
the SRResNet with the L1 loss, then a copy of it fine-tuned with L1 + the conditional adversarial loss. Both train on
random crops of the five training photos; the held-out photo (utils.superres.HELD_OUT) is never seen. Each shipped
model is scored on every 64x64 tile of the held-out photo (PSNR and sharpness over the truth's), beside bicubic.

Writes notebooks/checkpoints/superres_l1.pt and superres_l1_gan.pt (float16) with their SHA256SUMS lines and
notebooks/data/superres_checkpoints.json (recipe, training times, threads, machine, held-out scores):

    COURSE_THREADS=1 python scripts/train_superres.py           # the shipped recipe (4 min on an idle thread)
    COURSE_THREADS=1 python scripts/train_superres.py --dry-run # train and report, write nothing
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "notebooks" / "data" / "superres_checkpoints.json"
NAMES = {"L1": "superres_l1.pt", "L1 + adversarial": "superres_l1_gan.pt"}
SEED = 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("COURSE_THREADS", 1)))
    parser.add_argument("--dry-run", action="store_true", help="train and report, but write no file")
    args = parser.parse_args()
    if os.environ.get("COURSE_QUICK", "0") not in ("", "0"):
        sys.exit("COURSE_QUICK is set: the shipped models use the learner-mode recipe; unset it and run again")

    import utils
    from utils import superres
    from utils.course import checkpoints

    c = superres.recipe()
    models, histories = {}, {}
    # The L1 model: what train_models trains under the name "L1" (seed, crops and initial weights).
    utils.seed_everything(SEED, threads=args.threads)
    models["L1"] = superres.SRResNet(c["width"], c["blocks"])
    histories["L1"] = superres.train_sr(
        models["L1"],
        superres.crop_sampler(c["size"], seed=SEED),
        c["pixel_steps"],
        pixel="l1",
        batch_size=c["batch_size"],
        lr=c["lr"],
        desc="L1",
    )
    # The adversarial fine-tuning of a copy of it, as in train_models.
    utils.seed_everything(SEED + 1000, threads=args.threads)
    models["L1 + adversarial"] = copy.deepcopy(models["L1"])
    histories["L1 + adversarial"] = superres.train_sr(
        models["L1 + adversarial"],
        superres.crop_sampler(c["size"], seed=SEED + 1000),
        c["gan_steps"],
        pixel="l1",
        discriminator=superres.sr_discriminator(),
        adv_weight=c["adv_weight"],
        batch_size=c["batch_size"],
        lr=c["gan_lr"],
        lr_d=c["gan_lr_d"],
        desc="L1 + adversarial",
    )

    lr_test, hr_test = superres.tiles(size=c["size"])
    scores = {"bicubic": superres.evaluate(superres.bicubic_upsample, lr_test, hr_test)}
    for name, model in models.items():
        model = model.cpu()
        if not args.dry_run:
            checkpoints.save_checkpoint(model, NAMES[name])
            model = checkpoints.load_checkpoint(superres.SRResNet(c["width"], c["blocks"]), NAMES[name])
        scores[name] = superres.evaluate(model, lr_test, hr_test)  # the float16 weights that ship
    results = {
        "about": "notebook 06's shipped models (seed 0, the learner-mode recipe) scored on every tile of the "
        "held-out photo: PSNR (dB) and sharpness (mean gradient magnitude over the truth's)",
        "recipe": c,
        "seed": SEED,
        "checkpoints": NAMES,
        "held_out": superres.HELD_OUT,
        "tiles": len(hr_test),
        "train_seconds": {name: round(h.seconds, 1) for name, h in histories.items()},
        "scores": {name: {k: round(v, 3) for k, v in s.items()} for name, s in scores.items()},
        **utils.settings.machine(),
        "command": f"COURSE_THREADS={args.threads} python scripts/train_superres.py",
    }
    if not args.dry_run:
        OUT.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
