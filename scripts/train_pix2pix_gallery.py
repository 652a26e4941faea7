#!/usr/bin/env python3
"""Train notebook 05's gallery checkpoints: the pix2pix recipe on two more tasks of the paper's Figure 1.

    edges   edges -> photo   (utils.data.edges_to_photo_pairs: Canny edges, black on white, 1 channel)
    colour  grey -> colour   (utils.data.grey_to_colour_pairs: 0.299 R + 0.587 G + 0.114 B, 1 channel)

Both use the facades recipe of scripts/train_pix2pix.py (U-Net width 16, PatchGAN width 16 with n_layers=2, batch 4,
Adam lr 2e-4 betas (0.5, 0.999), L1 + cGAN with lambda 100, seed 0) on 400 random 64x64 crops of the six bundled
photos. The held-out pairs are 64 other crops (another seed) of the same photos: new crops of scenes the networks
have seen. Each checkpoint is loaded back (its SHA-256 checked) and scored on them by its L1 error, next to three
baselines: the input itself (copied to 3 channels), a fresh untrained generator and the training photos' mean colour.
Writes notebooks/checkpoints/pix2pix_edges.pt and pix2pix_colour.pt (float16 state dicts, SHA256SUMS updated) and
notebooks/data/pix2pix_gallery.json:

    python scripts/train_pix2pix_gallery.py                    # both tasks, one after the other (1 thread)
    python scripts/train_pix2pix_gallery.py --task colour      # one task; the JSON keeps the other task's record
    python scripts/train_pix2pix_gallery.py --steps 5 --checkpoints /tmp/ck --json /tmp/g.json   # a smoke test
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

import utils
from utils import data, pix2pix
from utils.course import checkpoints

ROOT = Path(__file__).resolve().parents[1]
CKPT = ROOT / "notebooks" / "checkpoints"
OUT = ROOT / "notebooks" / "data" / "pix2pix_gallery.json"

# The recipe: scripts/train_pix2pix.py's, with one input channel.
SIZE, WIDTH, D_LAYERS, BATCH, STEPS, LR, LAMBDA, SEED = 64, 16, 2, 4, 3000, 2e-4, 100.0, 0
N_TRAIN, TRAIN_SEED = 400, 0
N_TEST, TEST_SEED = 64, 1
TASKS: dict[str, dict] = {
    "edges": {"pairs": "edges_to_photo_pairs", "title": "edges -> photo", "in_channels": 1},
    "colour": {"pairs": "grey_to_colour_pairs", "title": "grey -> colour", "in_channels": 1},
}


def checkpoint_name(task: str) -> str:
    """The file name of a task's generator in notebooks/checkpoints/."""
    return f"pix2pix_{task}.pt"


def pairs(task: str, n: int, seed: int) -> TensorDataset:
    """``n`` (input, photo) pairs of ``task`` at SIZE x SIZE, drawn with ``seed`` (400/seed 0: training, 64/seed 1:
    held out)."""
    make: Callable[..., TensorDataset] = getattr(data, TASKS[task]["pairs"])
    return make(SIZE, n, seed=seed)


def generator(task: str) -> torch.nn.Module:
    """A fresh U-Net for ``task`` (1 input channel -> 3)."""
    return pix2pix.unet_generator(TASKS[task]["in_channels"], 3, SIZE, width=WIDTH)


def discriminator(task: str) -> torch.nn.Module:
    """A fresh conditional PatchGAN for ``task``: it sees the input and the photo stacked (1 + 3 channels)."""
    return pix2pix.patchgan_discriminator(TASKS[task]["in_channels"] + 3, WIDTH, D_LAYERS)


@torch.no_grad()
def evaluate(G: torch.nn.Module, inputs: torch.Tensor, seed: int = SEED) -> torch.Tensor:
    """G's outputs the pix2pix way (dropout on, the batch's own statistics), seeded."""
    torch.manual_seed(seed)
    return pix2pix.translate(G, inputs)


def l1(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean absolute difference of two image batches in [-1, 1]."""
    return float((a - b).abs().mean())


def baselines(task: str, inputs: torch.Tensor, photos: torch.Tensor, train_photos: torch.Tensor) -> dict[str, float]:
    """The L1 errors a generator must beat: the input copied to 3 channels, a fresh (seeded) untrained U-Net, and the
    training photos' mean colour everywhere."""
    torch.manual_seed(SEED)  # the untrained U-Net's weights
    mean = train_photos.mean(dim=(0, 2, 3), keepdim=True).expand_as(photos)
    return {
        "identity": l1(inputs.expand(-1, 3, -1, -1), photos),
        "untrained": l1(evaluate(generator(task), inputs), photos),
        "mean_colour": l1(mean, photos),
    }


def train_task(task: str, steps: int, threads: int, folder: Path) -> dict:
    """Train one task's G (and D) with the recipe, save G (float16), load it back and score it on the held-out
    pairs; returns the task's record for the JSON."""
    train_set = pairs(task, N_TRAIN, TRAIN_SEED)
    utils.seed_everything(SEED, threads=threads)
    G, D = generator(task), discriminator(task)
    cpu = time.process_time()
    history = pix2pix.train_pix2pix(
        G,
        D,
        train_set,
        steps,
        batch_size=BATCH,
        lr=LR,
        lambda_l1=LAMBDA,
        log_every=50,
        device=torch.device("cpu"),
        desc=TASKS[task]["title"],
    )
    cpu = time.process_time() - cpu
    name = checkpoint_name(task)
    path = checkpoints.save_checkpoint(G, name, folder)
    G = checkpoints.load_checkpoint(generator(task), name, folder)  # the shipped bytes, SHA-256 checked
    inputs, photos = pairs(task, N_TEST, TEST_SEED).tensors
    record = {
        "title": TASKS[task]["title"],
        "pairs": f"utils.data.{TASKS[task]['pairs']}",
        "checkpoint": name,
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),  # verified by load_checkpoint above
        "steps": steps,
        "train_seconds": history.seconds,
        "train_cpu_seconds": cpu,
        "l1_error": l1(evaluate(G, inputs), photos),
        "baselines": baselines(task, inputs, photos, train_set.tensors[1]),
        "history": {"step": history.step, "d_loss": history.d_loss, "g_gan": history.g_gan, "l1": history.l1},
    }
    print(f"{task}: held-out L1 {record['l1_error']:.3f}, baselines {record['baselines']}")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=["all", *TASKS], default="all")
    parser.add_argument("--steps", type=int, default=STEPS, help="training steps per task")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (1: comparable times)")
    parser.add_argument("--checkpoints", type=Path, default=CKPT, help="where the checkpoints and SHA256SUMS go")
    parser.add_argument("--json", type=Path, default=OUT, help="the results file")
    args = parser.parse_args(argv)
    command = " ".join(["python scripts/train_pix2pix_gallery.py", *(sys.argv[1:] if argv is None else argv)])
    records = {}
    for task in list(TASKS) if args.task == "all" else [args.task]:
        records[task] = {**train_task(task, args.steps, args.threads, args.checkpoints), "command": command}
    # Read the results file only now: a run of the other task in parallel may have written its record meanwhile.
    out = json.loads(args.json.read_text()) if args.json.exists() else {}
    out.update(
        {
            "setup": (
                f"{N_TRAIN} random {SIZE}x{SIZE} crops of the bundled photos {', '.join(data.PHOTOS)} (seed "
                f"{TRAIN_SEED}) for training, {N_TEST} other crops of the same photos (seed {TEST_SEED}) held out; "
                f"U-Net width {WIDTH}, conditional PatchGAN width {WIDTH} with n_layers={D_LAYERS}, batch {BATCH}, "
                f"Adam lr {LR} betas (0.5, 0.999), L1 + cGAN with lambda {LAMBDA:g}, seed {SEED}; L1 errors of the "
                f"float16 checkpoints as shipped (dropout on, the batch's statistics, torch seed {SEED})"
            ),
            "machine": f"CPU ({platform.processor() or platform.machine()}), {args.threads} thread(s), "
            f"torch {torch.__version__}",
            "n_test": N_TEST,
            "test_seed": TEST_SEED,
        }
    )
    out.setdefault("tasks", {}).update(records)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
