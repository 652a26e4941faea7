#!/usr/bin/env python3
"""Train notebook 09's shipped checkpoint: Johnson et al.'s transformation network for one style, on the CPU.

Content: fresh random crops of four bundled photos (utils.faststyle.TRAIN_PHOTOS); the photos in TEST_PHOTOS
(astronaut, coffee) are never seen and are what the notebook stylises. Style: a painterly rendering of the bundled
dahlia (utils.faststyle.style_image). Loss network: utils.perceptual.vgg_features("vgg16", weights="auto") at
relu1_2, relu2_2, relu3_3, relu4_3 (style) and relu2_2 (content) -- ImageNet VGG16 when its weights are in the torch
hub cache, otherwise the seeded random-weights VGG16; the results file records which one trained the checkpoint.

Writes notebooks/checkpoints/faststyle_flower.pt (float16) with its SHA256SUMS line and
notebooks/data/faststyle_results.json (recipe, loss history, training time, threads, machine, the losses on the
unseen photos at 256 px):

    COURSE_THREADS=1 python scripts/train_fast_style.py              # the shipped recipe (about 25 min, 1 thread)
    COURSE_THREADS=1 python scripts/train_fast_style.py --steps 20 --dry-run   # a smoke test, writes nothing
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

import torch

import utils
from utils import data, faststyle, perceptual
from utils.course import checkpoints

ROOT = Path(__file__).resolve().parents[1]
CKPT = ROOT / "notebooks" / "checkpoints"
OUT = ROOT / "notebooks" / "data" / "faststyle_results.json"
NAME = "faststyle_flower.pt"

# The recipe (notebook 09 builds the same network from the results file and trains a shorter run of it).
WIDTH, BLOCKS = 16, 5  # TransformNet(WIDTH, BLOCKS): 16/32/64 channels, half Johnson's width
SIZE, BATCH, STEPS, LR = 96, 4, 1200, 1e-3
CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT = 1.0, 1.0, 1.0
STYLE_SIZE, TEST_SIZE, SEED = 256, 256, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("COURSE_THREADS", 1)))
    parser.add_argument("--dry-run", action="store_true", help="train and report, but write no file")
    args = parser.parse_args()

    utils.seed_everything(SEED, threads=args.threads)
    cpu = torch.device("cpu")
    loss_net = perceptual.vgg_features("vgg16", faststyle.STYLE_LAYERS, weights="auto")
    style = faststyle.style_image(faststyle.STYLE_PHOTO, STYLE_SIZE)
    net = faststyle.TransformNet(WIDTH, BLOCKS)
    start, cpu_start = time.perf_counter(), time.process_time()
    history = faststyle.train_fast_style(
        net,
        loss_net,
        style,
        faststyle.content_sampler(SIZE, faststyle.TRAIN_PHOTOS, SEED),
        args.steps,
        BATCH,
        LR,
        CONTENT_WEIGHT,
        STYLE_WEIGHT,
        TV_WEIGHT,
        log_every=25,
        device=cpu,
        desc="fast style",
    )
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start

    # The perceptual loss on the unseen photos at 256 px, with the weights as saved (float16 -> float32).
    test = torch.stack([data.bundled_image(p, TEST_SIZE) for p in faststyle.TEST_PHOTOS])
    if not args.dry_run:
        path = checkpoints.save_checkpoint(net, NAME, CKPT)
        net = checkpoints.load_checkpoint(faststyle.TransformNet(WIDTH, BLOCKS), NAME, CKPT)
    out = faststyle.stylise(net, test)
    with torch.no_grad():
        grams = perceptual.style_targets(loss_net, style)
        terms = perceptual.perceptual_objective(
            loss_net,
            out,
            perceptual.content_targets(loss_net, test, [faststyle.CONTENT_LAYER]),
            grams,
            CONTENT_WEIGHT,
            STYLE_WEIGHT,
            TV_WEIGHT,
        )
    test_losses = {k: round(float(v), 5) for k, v in terms.items()}
    print(f"unseen photos {faststyle.TEST_PHOTOS} at {TEST_SIZE} px: {test_losses}")

    results = {
        "checkpoint": NAME,
        "recipe": {
            "net": f"TransformNet(width={WIDTH}, n_blocks={BLOCKS})",
            "width": WIDTH,
            "n_blocks": BLOCKS,
            "crop_size": SIZE,
            "batch_size": BATCH,
            "steps": args.steps,
            "lr": LR,
            "optimizer": "Adam",
            "content_weight": CONTENT_WEIGHT,
            "style_weight": STYLE_WEIGHT,
            "tv_weight": TV_WEIGHT,
            "content_layer": faststyle.CONTENT_LAYER,
            "style_layers": list(faststyle.STYLE_LAYERS),
            "gram_normalise": "chw",
            "style": f"painterly({faststyle.STYLE_PHOTO}, {STYLE_SIZE} px)",
            "train_photos": list(faststyle.TRAIN_PHOTOS),
            "test_photos": list(faststyle.TEST_PHOTOS),
            "seed": SEED,
        },
        "loss_network": {"arch": loss_net.arch, "weights_source": loss_net.weights_source},
        "params": sum(p.numel() for p in net.parameters()),
        "training_seconds": round(seconds, 1),
        "training_cpu_seconds": round(cpu_seconds, 1),  # below the wall time when other jobs share the cores
        "seconds_per_step": round(seconds / args.steps, 3),
        "machine": utils.settings.machine(),
        "final_train_losses": {k: round(history[k][-1], 5) for k in ("content", "style", "tv", "total")},
        "test_losses_256px": test_losses,
        "history": {
            "step": history.step,
            **{k: [round(v, 5) for v in history[k]] for k in ("content", "style", "tv", "total")},
        },
    }
    if args.dry_run:
        print(json.dumps({k: v for k, v in results.items() if k != "history"}, indent=1))
        return
    results["checkpoint_bytes"] = path.stat().st_size
    results["checkpoint_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) and {OUT}")


if __name__ == "__main__":
    main()
