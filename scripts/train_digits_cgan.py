#!/usr/bin/env python3
"""Train notebook 04's shipped class-conditional GAN: the notebook's own recipe (section 8, learner mode), seed 0.

The generator is utils.models.ConditionalDCGANGenerator, the discriminator ConditionalDCGANDiscriminator (a
projection D), trained with utils.train.cgan_step on the train split of the bundled handwritten digits at 16x16.
After training, the generator is asked for one digit per train image (the train split's class mix) and the shipped
digit classifier of notebook 07 (digits_handwritten_classifier.pt, trained on the same train split) reads them.

Writes notebooks/checkpoints/digits_cgan.pt (the generator, float16) with its SHA256SUMS line and
notebooks/data/digits_cgan.json (recipe, training time, threads, machine, class accuracy):

    COURSE_THREADS=1 python scripts/train_digits_cgan.py             # the shipped recipe (3 min on an idle thread)
    COURSE_THREADS=1 python scripts/train_digits_cgan.py --steps 20 --dry-run   # a smoke test, writes nothing
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

import utils
from utils import data, metrics, models, train
from utils.course import checkpoints

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "notebooks" / "data" / "digits_cgan.json"
NAME = "digits_cgan.pt"
CLASSIFIER = "digits_handwritten_classifier.pt"

# The recipe of notebook 04, section 8 (learner mode); scripts/measure_digits_gan.py uses the same numbers.
SIZE, Z_DIM, WIDTH, BATCH, STEPS, LR, BETAS, SEED = 16, 32, 32, 128, 5000, 2e-4, (0.5, 0.999), 0


def generator() -> models.ConditionalDCGANGenerator:
    """A fresh generator with the recipe's sizes (what the notebook loads the checkpoint into)."""
    return models.ConditionalDCGANGenerator(Z_DIM, 10, SIZE, width=WIDTH)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("COURSE_THREADS", 1)))
    parser.add_argument("--dry-run", action="store_true", help="train and report, but write no file")
    args = parser.parse_args()

    train_set = data.digits(size=SIZE, split="train")
    y_train = train_set.tensors[1]
    utils.seed_everything(SEED, threads=args.threads)
    G = generator()
    D = models.ConditionalDCGANDiscriminator(10, SIZE, width=WIDTH)
    G.apply(models.dcgan_init)
    D.apply(models.dcgan_init)
    history = train.train_gan(
        G,
        D,
        data.batch_sampler(train_set),
        steps=args.steps,
        z_dim=Z_DIM,
        batch_size=BATCH,
        lr=LR,
        betas=BETAS,
        step_fn=train.cgan_step,
        device=torch.device("cpu"),
        desc="conditional GAN",
    )
    if not args.dry_run:
        checkpoints.save_checkpoint(G, NAME)
        G = checkpoints.load_checkpoint(generator(), NAME)  # score the float16 weights that ship
    classifier = checkpoints.load_checkpoint(models.DigitClassifier(size=SIZE), CLASSIFIER).eval()
    torch.manual_seed(SEED)
    with torch.no_grad():  # sample as G trained: in training mode, batch norm uses the statistics of this batch
        fake = G.train()(torch.randn(len(y_train), Z_DIM), y_train)
    results = {
        "recipe": {"steps": args.steps, "batch_size": BATCH, "lr": LR, "betas": BETAS, "z_dim": Z_DIM, "width": WIDTH},
        "seed": SEED,
        "data": f"utils.data.digits(size={SIZE}, split='train'), {len(y_train)} images",
        "train_seconds": round(history.seconds, 1),
        "d_loss": round(history.d_loss[-1], 4),
        "g_loss": round(history.g_loss[-1], 4),
        "class_accuracy": round(metrics.classifier_accuracy(classifier, fake, y_train), 4),
        "class_accuracy_about": f"share of {len(y_train)} samples (the train split's class mix) that {CLASSIFIER} "
        "reads as the requested class",
        **utils.settings.machine(),
        "command": f"COURSE_THREADS={args.threads} python scripts/train_digits_cgan.py",
    }
    if not args.dry_run:
        OUT.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
