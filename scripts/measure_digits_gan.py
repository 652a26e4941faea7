#!/usr/bin/env python3
"""Measure notebook 04's class-conditional GAN in learner mode over several seeds and store the figures.

For each seed: train the digit classifier (held-out accuracy, and the real-vs-real floor of the digits FID:
real train vs real test digits), then train the conditional GAN with the notebook's recipe, ask it for one digit
per train image (the train split's class mix), and report how often the classifier reads the requested class and
the digits FID against the test digits. The figures go to notebooks/data/digits_gan_results.json, which the
notebook shows beside its live run:

    python scripts/measure_digits_gan.py                      # 3 seeds, 1 CPU thread, about 10 minutes
    python scripts/measure_digits_gan.py --seeds 0 --steps 500 --out /tmp/try.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
from pathlib import Path

import torch

import utils
from utils import data, metrics, models, train

ROOT = Path(__file__).resolve().parents[1]
# The recipe of notebook 04, section 8 (learner mode).
SIZE, Z_DIM, WIDTH, BATCH, LR, BETAS, CLASSIFIER_EPOCHS = 16, 32, 32, 128, 2e-4, (0.5, 0.999), 20


def run(seed: int, steps: int, threads: int) -> dict:
    """One seed: classifier, floor, conditional GAN; returns the figures."""
    train_set, test_set = data.digits(size=SIZE, split="train"), data.digits(size=SIZE, split="test")
    (x_train, y_train), (x_test, y_test) = train_set.tensors, test_set.tensors
    dev = torch.device("cpu")

    utils.seed_everything(seed, threads=threads)
    classifier = models.DigitClassifier(size=SIZE)
    train.train_classifier(classifier, train_set, epochs=CLASSIFIER_EPOCHS, device=dev, desc=f"classifier, seed {seed}")
    floor = metrics.classifier_fid(classifier, x_train, x_test)

    utils.seed_everything(seed, threads=threads)
    G = models.ConditionalDCGANGenerator(Z_DIM, 10, SIZE, width=WIDTH)
    D = models.ConditionalDCGANDiscriminator(10, SIZE, width=WIDTH)
    G.apply(models.dcgan_init)
    D.apply(models.dcgan_init)
    history = train.train_gan(
        G,
        D,
        data.batch_sampler(train_set),
        steps=steps,
        z_dim=Z_DIM,
        batch_size=BATCH,
        lr=LR,
        betas=BETAS,
        step_fn=train.cgan_step,
        device=dev,
        desc=f"conditional GAN, seed {seed}",
    )
    with torch.no_grad():  # sample as G trained: in training mode, batch norm uses the statistics of this batch
        fake = G(torch.randn(len(y_train), Z_DIM), y_train)
    result = {
        "seed": seed,
        "classifier_accuracy": metrics.classifier_accuracy(classifier, x_test, y_test),
        "class_accuracy": metrics.classifier_accuracy(classifier, fake, y_train),
        "fid": metrics.classifier_fid(classifier, fake, x_test),
        "floor": floor,
        "train_seconds": history.seconds,
    }
    print(
        f"seed {seed}: classifier {100 * result['classifier_accuracy']:.1f}% | class accuracy "
        f"{100 * result['class_accuracy']:.1f}% | digits FID {result['fid']:.2f} | floor {floor:.2f} "
        f"({result['fid'] / floor:.2f}x) | {history.seconds:.0f} s of GAN training",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=5000, help="GAN training steps (the notebook's learner mode)")
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads (1: comparable numbers on a shared machine)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "notebooks" / "data" / "digits_gan_results.json")
    args = parser.parse_args()
    runs = [run(seed, args.steps, args.threads) for seed in args.seeds]
    keys = ("classifier_accuracy", "class_accuracy", "fid", "floor", "train_seconds")
    mean = {k: statistics.fmean(r[k] for r in runs) for k in keys}
    mean["fid_over_floor"] = statistics.fmean(r["fid"] / r["floor"] for r in runs)
    setup = (
        f"learner mode: {args.steps} steps, batch {BATCH}, lr {LR}, digits {SIZE}x{SIZE}, width {WIDTH}; "
        f"CPU ({platform.processor() or platform.machine()}), {args.threads} thread(s), torch {torch.__version__}"
    )
    out = {"setup": setup, "command": "python " + " ".join(sys.argv), "runs": runs, "mean": mean}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(
        f"mean over {len(runs)} seeds: class accuracy {100 * mean['class_accuracy']:.1f}% | digits FID "
        f"{mean['fid']:.2f} | floor {mean['floor']:.2f} | FID / floor {mean['fid_over_floor']:.2f} | "
        f"{mean['train_seconds']:.0f} s of training\nwrote {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
