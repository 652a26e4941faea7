#!/usr/bin/env python3
"""Train notebook 10's three face generators on the 80 training faces of lfw_subset (utils.data.face_images):
two DCGANs (transposed convolutions; seeds 0 and 1) and one generator of another family (nearest-neighbour
upsampling + convolutions). The deepfake detector trains against the first and meets the other two unseen.

Writes notebooks/checkpoints/face_gan_*.pt (float16) with their SHA256SUMS lines and
notebooks/data/face_gans.json (recipe, final losses, training time, threads, machine):

    COURSE_THREADS=1 python scripts/train_face_gans.py                   # the shipped recipe (11 min, 1 thread)
    COURSE_THREADS=1 python scripts/train_face_gans.py --steps 5 --dry-run   # a smoke test, writes nothing
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

import utils
from utils import data, deepfake
from utils.course import checkpoints

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "notebooks" / "data" / "face_gans.json"
STEPS, BATCH = 1200, 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--dry-run", action="store_true", help="train but write nothing")
    args = parser.parse_args()
    utils.seed_everything(0)
    faces = data.face_images(32, "train")
    results = {
        "steps": args.steps,
        "batch_size": BATCH,
        "faces": "lfw_subset, 80 training faces at 32x32",
        **utils.settings.machine(),
        "generators": {},
    }
    for name, (family, seed) in deepfake.FACE_GANS.items():
        torch.manual_seed(seed)
        generator = deepfake.face_generator(family)
        history = deepfake.train_face_gan(generator, faces, args.steps, seed, BATCH, desc=name)
        results["generators"][name] = {
            "family": family,
            "seed": seed,
            "seconds": round(history.seconds, 1),
            "d_loss": round(history.d_loss[-1], 4),
            "g_loss": round(history.g_loss[-1], 4),
        }
        if not args.dry_run:
            checkpoints.save_checkpoint(generator, name)
    if not args.dry_run:
        OUT.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
