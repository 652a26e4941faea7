#!/usr/bin/env python3
"""Train notebook 10's shipped deepfake detector: the high-pass detector of section 1, with the same recipe
(seed 0, 3,000 steps of 64 real training faces and 64 fresh fakes of generator A, `deepfake.train_detector`).

Scores it the way the notebook does: the 20 held-out real faces, each in 8 new "photos", against 160 fresh fakes of
each shipped face generator (A seen in training, A' and B unseen). Writes notebooks/checkpoints/deepfake_detector.pt
(float16) with its SHA256SUMS line and notebooks/data/deepfake_detector.json (recipe, scores, time, machine):

    COURSE_THREADS=1 python scripts/train_detector.py                      # the shipped recipe (a few minutes)
    COURSE_THREADS=1 python scripts/train_detector.py --steps 5 --dry-run  # a smoke test, writes nothing
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch import Tensor, nn

import utils
from utils import data, deepfake, deidentify
from utils.course import checkpoints

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "notebooks" / "data" / "deepfake_detector.json"
NAME = "deepfake_detector.pt"
STEPS, BATCH, SEED = 3000, 64, 0
#: The shipped face generators under the notebook's names: A (seen in training), A' and B (unseen).
GENERATORS = {"A": "face_gan_dcgan.pt", "A'": "face_gan_dcgan_seed1.pt", "B": "face_gan_upsample.pt"}


def load_generators() -> dict[str, nn.Module]:
    """The three shipped face generators, loaded (SHA-256 checked) and in eval mode."""
    out = {}
    for label, name in GENERATORS.items():
        family, _ = deepfake.FACE_GANS[name]
        out[label] = checkpoints.load_checkpoint(deepfake.face_generator(family), name).eval()
    return out


def test_sets(generators: dict[str, nn.Module]) -> tuple[Tensor, dict[str, Tensor]]:
    """Notebook 10's test: the 20 held-out faces in 8 new photos each (160), and 160 fresh fakes per generator."""
    gen_eval = torch.Generator().manual_seed(7)
    faces_test = data.face_images(32, "test")
    real = torch.cat([deidentify.augment_faces(faces_test, gen_eval) for _ in range(8)])
    fakes = {
        label: deidentify.augment_faces(deepfake.sample_fakes(g, 160, deepfake.FACE_Z, seed=99), gen_eval)
        for label, g in generators.items()
    }
    return real, fakes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--dry-run", action="store_true", help="train but write nothing")
    args = parser.parse_args()
    utils.seed_everything(SEED)
    faces_train = data.face_images(32, "train")
    generators = load_generators()
    g_a = generators["A"]

    def fakes_a(n: int) -> Tensor:
        return g_a(torch.randn(n, deepfake.FACE_Z)).detach()

    torch.manual_seed(SEED)
    detector = deepfake.face_detector(high_pass_input=True)
    start = time.perf_counter()
    history = deepfake.train_detector(
        detector, faces_train, fakes_a, args.steps, batch_size=BATCH, seed=SEED, desc="detector (high-pass)"
    )
    seconds = time.perf_counter() - start
    detector = detector.cpu().eval()
    if not args.dry_run:
        checkpoints.save_checkpoint(detector, NAME)
        # Score the saved float16 weights, the ones the notebook loads.
        detector = checkpoints.load_checkpoint(deepfake.face_detector(high_pass_input=True), NAME).eval()
    real, fakes = test_sets(generators)
    scores = {
        label: {k: round(v, 4) for k, v in deepfake.detection_accuracy(detector, real, fake).items()}
        for label, fake in fakes.items()
    }
    results = {
        "checkpoint": NAME,
        "recipe": "deepfake.face_detector(high_pass_input=True) after torch.manual_seed(0); "
        "deepfake.train_detector against generator A (face_gan_dcgan.pt), fresh fakes every step",
        "steps": args.steps,
        "batch_size": BATCH,
        "seed": SEED,
        "parameters": sum(p.numel() for p in detector.parameters()),
        "final_loss": round(float(history.loss[-1]), 4),
        "seconds": round(seconds, 1),
        **utils.settings.machine(),
        "test": "20 held-out real faces x 8 new photos against 160 fakes per generator (notebook 10, section 1)",
        "accuracy": scores,
    }
    if not args.dry_run:
        OUT.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
