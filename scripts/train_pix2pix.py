#!/usr/bin/env python3
"""Train notebook 05's checkpoints and reproduce the pix2pix paper's loss ablation on procedural facades.

First the FCN-score analogue: a small segmentation net (utils.fcn_score) trained on real (procedural) photos -> labels,
then frozen and saved; it is fixed before any generator is compared and never tuned afterwards. Then four generators,
each with the same recipe, data and number of steps, differing only in the loss (the rows of the paper's Table 1):

    l1       L1 only              (no discriminator)
    cgan     cGAN only            (lambda = 0: D sees the label map paired with the photo)
    l1_cgan  L1 + cGAN            (pix2pix: lambda = 100)
    l1_gan   unconditional GAN + L1 (D sees the photo alone)

Finally every shipped checkpoint is loaded back (exactly the bytes in notebooks/checkpoints/) and scored on held-out
facades: the segmenter's per-pixel accuracy, per-class accuracy and class IoU on the generated photos (and on the real
ones: the "ground truth" row), and the L1 error. Writes notebooks/checkpoints/*.pt (float16 state dicts),
notebooks/checkpoints/SHA256SUMS and notebooks/data/pix2pix_ablation.json:

    python scripts/train_pix2pix.py                           # everything, one after the other (1 thread, ~40 min)
    python scripts/train_pix2pix.py --stage segmenter         # or stage by stage (generators may train in parallel
    python scripts/train_pix2pix.py --stage l1_cgan           #  processes; the segmenter is trained and frozen first)
    python scripts/train_pix2pix.py --stage score
    python scripts/train_pix2pix.py --stage seed --seed 1  # the four rows again with another seed, scores only

Per-stage logs (and the checkpoints of seeds that are not shipped) go to a work folder: a fresh temporary one per
run unless ``--work DIR`` names one. Stages run as separate processes share their logs through ``--work DIR`` (give
the same DIR to every stage of one run); a stage only gathers the logs that stages of its run listed in
DIR/written.txt, never stray files of older runs. Another seed's scores are added to "other_seeds" (the shipped
recipe) or "other_runs" (another number of steps) without replacing another run's record.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

import torch
from runlog import add_seed_record, read_log, work_folder, write_log  # scripts/runlog.py

import utils
from utils import fcn_score, pix2pix
from utils.course import checkpoints
from utils.data import facades

ROOT = Path(__file__).resolve().parents[1]
CKPT = ROOT / "notebooks" / "checkpoints"
OUT = ROOT / "notebooks" / "data" / "pix2pix_ablation.json"

# The recipe (notebook 05 trains the default model, l1_cgan, with the same numbers in learner mode).
SIZE, WIDTH, D_LAYERS, BATCH, STEPS, LR, LAMBDA, SEED = 64, 16, 2, 4, 3000, 2e-4, 100.0, 0
N_TRAIN, TRAIN_SEED = 400, 0  # like CMP Facades' 400 training pairs
N_TEST, TEST_SEED = 200, 2  # held-out facades for every score
N_SEG, SEG_SEED, SEG_WIDTH, SEG_EPOCHS, SEG_BATCH, SEG_LR = 1500, 1, 16, 10, 32, 1e-3  # the scorer's own photos
MODELS = {
    "l1": {"use_gan": False, "use_l1": True, "conditional": True},
    "cgan": {"use_gan": True, "use_l1": False, "conditional": True},
    "l1_cgan": {"use_gan": True, "use_l1": True, "conditional": True},
    "l1_gan": {"use_gan": True, "use_l1": True, "conditional": False},
}
LABELS = {"l1": "L1", "cgan": "cGAN", "l1_cgan": "L1+cGAN", "l1_gan": "L1+GAN"}


def save_half(module: torch.nn.Module, path: Path) -> None:
    """Save a float16 state dict as ``path`` and record its SHA-256 in that folder's SHA256SUMS."""
    checkpoints.save_checkpoint(module, path.name, path.parent)


def load_half(module: torch.nn.Module, path: Path) -> torch.nn.Module:
    """Load a checkpoint written by :func:`save_half` into ``module`` (float32 again), its SHA-256 checked."""
    return checkpoints.load_checkpoint(module, path.name, path.parent)


def machine(threads: int) -> str:
    """This machine in words."""
    return f"CPU ({platform.processor() or platform.machine()}), {threads} thread(s), torch {torch.__version__}"


def train_segmenter_stage(work: Path, threads: int) -> None:
    """Train the scorer on real photos -> labels, freeze it (save), and log its accuracy on held-out real photos."""
    _, photos, labels = facades.facades_pairs(N_SEG, SIZE, seed=SEG_SEED).tensors
    utils.seed_everything(SEED, threads=threads)
    net = fcn_score.segmenter(facades.N_CLASSES, SEG_WIDTH)
    start, cpu = time.perf_counter(), time.process_time()
    losses = fcn_score.train_segmenter(net, photos, labels, SEG_EPOCHS, SEG_BATCH, SEG_LR, torch.device("cpu"))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    save_half(net, CKPT / "segmenter.pt")
    _, test_photos, test_labels = facades.facades_pairs(N_TEST, SIZE, seed=TEST_SEED).tensors
    real = fcn_score.score_photos(
        load_half(fcn_score.segmenter(facades.N_CLASSES, SEG_WIDTH), CKPT / "segmenter.pt"),
        test_photos,
        test_labels,
        facades.N_CLASSES,
    )
    print(f"segmenter frozen: real held-out photos {real}")
    log = {
        "train_seconds": seconds,
        "train_cpu_seconds": cpu,
        "epoch_losses": losses,
        "real_scores": real,
        "machine": machine(threads),
    }
    write_log(work, "segmenter.json", log)


def generator(name: str) -> tuple[torch.nn.Module, torch.nn.Module | None]:
    """A fresh (G, D) for one ablation row (D is None for L1 alone)."""
    G = pix2pix.unet_generator(3, 3, SIZE, width=WIDTH)
    cfg = MODELS[name]
    D = pix2pix.patchgan_discriminator(6 if cfg["conditional"] else 3, WIDTH, D_LAYERS) if cfg["use_gan"] else None
    return G, D


def train_generator_stage(work: Path, name: str, steps: int, threads: int, seed: int = SEED) -> None:
    """Train one ablation row with the shared recipe and save G (float16); other seeds go to the work folder."""
    train_set = facades.facades_pairs(N_TRAIN, SIZE, seed=TRAIN_SEED)
    utils.seed_everything(seed, threads=threads)
    G, D = generator(name)
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
        desc=LABELS[name],
        **MODELS[name],
    )
    cpu = time.process_time() - cpu
    save_half(G, CKPT / f"pix2pix_{name}.pt" if seed == SEED else work / f"seed{seed}" / f"pix2pix_{name}.pt")
    log = {
        "train_seconds": history.seconds,
        "train_cpu_seconds": cpu,
        "steps": steps,
        "machine": machine(threads),
        "history": {"step": history.step, "d_loss": history.d_loss, "g_gan": history.g_gan, "l1": history.l1},
    }
    write_log(work, f"{name}.json" if seed == SEED else f"seed{seed}/{name}.json", log)


def seed_stage(work: Path, seed: int, steps: int, threads: int, command: str) -> None:
    """Train the four rows again with another seed (same data, recipe and frozen segmenter) and add their scores
    to the JSON (see :func:`add_seed_record`): how much of the ordering is the seed? (Not shipped as checkpoints.)"""
    if seed == SEED:
        raise SystemExit(f"seed {SEED} is the shipped run: use --stage all (or its stages) to remeasure it")
    for name in MODELS:
        train_generator_stage(work, name, steps, threads, seed)
    utils.seed_everything(SEED, threads=threads)
    labels_img, photos, ids = facades.facades_pairs(N_TEST, SIZE, seed=TEST_SEED).tensors
    seg = load_half(fcn_score.segmenter(facades.N_CLASSES, SEG_WIDTH), CKPT / "segmenter.pt")
    rows = {}
    for name in MODELS:
        G = load_half(generator(name)[0], work / f"seed{seed}" / f"pix2pix_{name}.pt")
        fake = evaluate(G, labels_img, photos)
        rows[name] = {
            **fcn_score.score_photos(seg, fake, ids, facades.N_CLASSES),
            "l1_error": float((fake - photos).abs().mean()),
            "train_seconds": read_log(work, f"seed{seed}/{name}.json")["train_seconds"],
        }
        print(f"seed {seed} {LABELS[name]:8s} {rows[name]}")
    out = json.loads(OUT.read_text())
    where = add_seed_record(out, seed, steps, command, rows)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"added seed {seed} to {OUT} as {where}")


@torch.no_grad()
def evaluate(G: torch.nn.Module, labels_img: torch.Tensor, photos: torch.Tensor, seed: int = SEED) -> torch.Tensor:
    """G's photos for the label images, the pix2pix way (dropout on, the test batch's statistics), seeded."""
    torch.manual_seed(seed)
    return pix2pix.translate(G, labels_img)


def score_stage(work: Path, threads: int, command: str) -> None:
    """Load every shipped checkpoint back (SHA-256 checked), score it on held-out facades and write the JSON."""
    utils.seed_everything(SEED, threads=threads)
    labels_img, photos, ids = facades.facades_pairs(N_TEST, SIZE, seed=TEST_SEED).tensors
    seg = load_half(fcn_score.segmenter(facades.N_CLASSES, SEG_WIDTH), CKPT / "segmenter.pt")
    seg_log = read_log(work, "segmenter.json")
    rows = {"ground_truth": {**fcn_score.score_photos(seg, photos, ids, facades.N_CLASSES), "l1_error": 0.0}}
    runs = {}
    for name in MODELS:
        G = load_half(generator(name)[0], CKPT / f"pix2pix_{name}.pt")
        fake = evaluate(G, labels_img, photos)
        rows[name] = {
            **fcn_score.score_photos(seg, fake, ids, facades.N_CLASSES),
            "l1_error": float((fake - photos).abs().mean()),
        }
        runs[name] = read_log(work, f"{name}.json")
        print(f"{LABELS[name]:8s} {rows[name]} | {runs[name]['train_seconds']:.0f} s of training")
    files = ["segmenter.pt"] + [f"pix2pix_{name}.pt" for name in MODELS]
    sums = {f: hashlib.sha256((CKPT / f).read_bytes()).hexdigest() for f in files}  # all verified by load_half
    out = {
        "setup": (
            f"procedural facades {SIZE}x{SIZE}: {N_TRAIN} training pairs (seed {TRAIN_SEED}), {N_TEST} held-out "
            f"(seed {TEST_SEED}); U-Net width {WIDTH}, PatchGAN width {WIDTH} with n_layers={D_LAYERS}, "
            f"batch {BATCH}, {STEPS} steps each, Adam lr {LR} betas (0.5, 0.999), lambda {LAMBDA:g}, seed {SEED}; "
            f"segmenter width {SEG_WIDTH}, {N_SEG} real photos (seed {SEG_SEED}), {SEG_EPOCHS} epochs, "
            f"trained and frozen before any generator was scored; scores of the float16 checkpoints as shipped"
        ),
        "command": command,
        "machine": seg_log["machine"],
        "scores": rows,
        "train_seconds": {"segmenter": seg_log["train_seconds"], **{n: runs[n]["train_seconds"] for n in MODELS}},
        "train_cpu_seconds": {
            "segmenter": seg_log.get("train_cpu_seconds"),
            **{n: runs[n]["train_cpu_seconds"] for n in MODELS},
        },
        "steps": {n: runs[n]["steps"] for n in MODELS},
        "history": {n: runs[n]["history"] for n in MODELS},
        "sha256": sums,
        "bytes": {f: (CKPT / f).stat().st_size for f in files},
    }
    if OUT.exists():  # keep the other seeds and runs already measured (they are other runs' records)
        old = json.loads(OUT.read_text())
        out.update({k: old[k] for k in ("other_seeds", "other_runs") if k in old})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", choices=["all", "segmenter", *MODELS, "score", "seed"], default="all")
    parser.add_argument("--seed", type=int, default=1, help="the init seed of --stage seed (after the others)")
    parser.add_argument("--steps", type=int, default=STEPS, help="generator steps (the same for every row)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (1: comparable times on a shared machine)")
    parser.add_argument("--command", default=None, help="the command line(s) to record in the JSON (score stage)")
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="this run's folder for per-stage logs; give the same DIR to every stage of a staged run "
        "(default: a fresh temporary folder)",
    )
    args = parser.parse_args()
    command = args.command or ("python " + " ".join(sys.argv))
    work = work_folder(args.work, "train_pix2pix-")
    print(f"work folder: {work}" + ("" if args.work else f" (pass --work {work} to this run's later stages)"))
    if args.stage in ("all", "segmenter"):
        train_segmenter_stage(work, args.threads)
    for name in MODELS:
        if args.stage in ("all", name):
            train_generator_stage(work, name, args.steps, args.threads)
    if args.stage in ("all", "score"):
        score_stage(work, args.threads, command)
    if args.stage == "seed":
        seed_stage(work, args.seed, args.steps, args.threads, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
