#!/usr/bin/env python3
"""Notebook 07's grouped recipe: a CycleGAN plus a loss that keeps each digit in its own group, found without labels.

No labels are used to train; they only score. In three parts (utils.groups), all inside the timed budget:

1. Features per domain, by SimCLR (Chen et al., 2020): a small CNN learns that two random distortions of one digit
   (turned, scaled, sheared, shifted, strokes thickened or thinned) belong together. 80 k-means clusters per domain.
2. A CycleGAN as in scripts/train_cyclegan.py with the shipped bottleneck (two downsamplings) but 4 residual blocks,
   noise 0.3 on G's output before F, lambda = 2, identity 0.5 lambda, batch 8, 2,700 steps (``--down 1 --steps
   3000``: the lambda = 2 recipe). At 2/3 and 5/6 of the steps the 160 clusters are grouped into 10: a graph links
   each handwritten cluster to the typeset clusters its digits are translated into by G (and back through F), and
   each cluster to its 3 nearest clusters in its own domain (weight 8 x the mean cross link among the handwritten
   clusters, 1 x among the typeset ones, whose neighbours are less often the same digit); the graph's spectral
   embedding is split into 10 groups of equal size (the digits' classes are about equally frequent) by k-means
   whose assignments are a Sinkhorn transport plan (``--unbalanced``: sklearn's spectral clustering, groups of any
   size, as in the first runs).
3. From the first grouping on, each generator's loss also has a cross-entropy (weight 1): G(a), in the typeset
   features, must lie nearest the mean feature of a's group among the typeset digits (temperature 0.1); F(b) likewise.

Scores the two generators as scripts/train_cyclegan.py does (held-out digits, the shipped frozen classifiers in
notebooks/checkpoints/) and prints the time of all three parts. Runs of the default recipe are added to
notebooks/data/cyclegan_groups.json; ``--ship`` also saves the generators as notebook 07's checkpoints
(cyclegan_grouped_{cycle,nocycle}_{ab,ba}.pt, float16, SHA-256) and scores them as loaded back:

    python scripts/cyclegan_groups.py --seed 0 --ship             # about 9 minutes on a 2-core laptop
    python scripts/cyclegan_groups.py --seed 0 --lam 0 --ship     # the same without the cycle loss
    python scripts/cyclegan_groups.py --seed 5                    # another seed: scores only
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import torch

import train_cyclegan as T
import utils
from utils import groups as grouping
from utils import train

DOWN, BLOCKS, STEPS, LAMBDA = 2, 4, 2700, 2.0  # groups formed at 2/3 and 5/6 of the steps (1,800 and 2,250)
OUT = T.ROOT / "notebooks" / "data" / "cyclegan_groups.json"
SETUP = ("the sets, discriminators, batch, optimiser, schedule and pools of scripts/train_cyclegan.py; "
         f"resnet_generator(width {T.G_WIDTH}, {BLOCKS} blocks, {DOWN} downsamplings), noise {T.NOISE_74} on G's "
         f"output before F, lambda {LAMBDA:g} (or 0), identity {T.LAMBDA_ID:g} lambda, {STEPS} steps; SimCLR "
         f"({grouping.SIMCLR_STEPS} steps of batch {grouping.SIMCLR_BATCH}), {grouping.CLUSTERS} clusters per "
         f"domain, {grouping.NEIGHBOURS} neighbours within a domain weighted {grouping.BETA['a']:g} (A) and "
         f"{grouping.BETA['b']:g} (B) x the mean cross link, {grouping.GROUPS} equal groups formed at 2/3 and 5/6 of "
         "the steps, group loss weight 1; "
         "wall and CPU seconds cover SimCLR, clustering and training, not scoring")


def record(key: str, entry: dict) -> None:
    """Add one run (or the shipped checkpoints' scores) to the results file, keeping the others."""
    out = json.loads(OUT.read_text()) if OUT.exists() else {}
    out["setup"] = SETUP
    out.setdefault("runs", {})[key] = entry
    out["runs"] = dict(sorted(out["runs"].items()))
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"recorded {key} in {OUT}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (2: the whole of a 2-core laptop)")
    parser.add_argument("--lam", type=float, default=LAMBDA, help="cycle weight (0: the ablation)")
    parser.add_argument("--down", type=int, default=DOWN, help="generator downsamplings (1: the lambda = 2 recipe's)")
    parser.add_argument("--blocks", type=int, default=BLOCKS, help="generator residual blocks")
    parser.add_argument("--steps", type=int, default=STEPS, help="training steps (3000: the lambda = 2 recipe's)")
    parser.add_argument("--unbalanced", action="store_true",
                        help="split the clusters by plain spectral clustering, groups of any size (the first runs)")
    parser.add_argument("--ship", action="store_true", help="save the generators as notebook 07's checkpoints")
    args = parser.parse_args()
    default = (args.down, args.blocks, args.steps, args.unbalanced) == (DOWN, BLOCKS, STEPS, False)
    if args.ship and not (default and args.lam in (LAMBDA, 0.0)):
        parser.error(f"--ship saves the default recipe only (lambda {LAMBDA:g} or 0)")
    cpu = torch.device("cpu")
    sets = T.domains()
    labels = (sets["train_a"].tensors[1], sets["train_b"].tensors[1])
    start, cpu_start = time.perf_counter(), time.process_time()
    utils.seed_everything(args.seed, threads=args.threads)
    groups = grouping.Groups(sets["train_a"].tensors[0], sets["train_b"].tensors[0], args.seed,
                             balanced=not args.unbalanced, device=cpu)
    print(f"features and clusters: {time.perf_counter() - start:.0f} s")
    utils.seed_everything(args.seed, threads=args.threads)
    nets = T.networks(args.blocks, args.down)
    history, formed = grouping.train_grouped_cyclegan(nets, groups, args.steps, T.BATCH, lambda_cycle=args.lam,
                                                      lambda_identity=T.LAMBDA_ID, cycle_noise=T.NOISE_74,
                                                      seed=args.seed, labels=labels, device=cpu)
    wall, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    utils.seed_everything(T.SEED, threads=args.threads)
    classifiers = T.load_classifiers()
    scores = T.score(nets.g_ab, nets.g_ba, sets, classifiers)
    out = {k: round(v, 4) for k, v in scores.items() if isinstance(v, float)}
    setup = {"seed": args.seed, "lam": args.lam, "down": args.down, "blocks": args.blocks, "steps": args.steps,
             "balanced": not args.unbalanced, "threads": args.threads}
    times = {"wall_seconds": round(wall), "cpu_seconds": round(cpu_seconds), "train_seconds": round(history.seconds)}
    print(json.dumps({**setup, **out, **times}))
    if not default:
        return 0
    name = "cycle" if args.lam > 0 else "nocycle"
    command = "python scripts/cyclegan_groups.py " + " ".join(sys.argv[1:])
    entry = {**setup, **out, **times, "groups_right": [[s, round(a, 4)] for s, a in formed],
             "command": command, "machine": utils.settings.machine()}
    if args.lam in (LAMBDA, 0.0):
        record(f"{name}/seed{args.seed}", entry)
    if args.ship:
        for gen, half in ((nets.g_ab, "ab"), (nets.g_ba, "ba")):
            train.save_checkpoint(gen, f"cyclegan_grouped_{name}_{half}.pt", T.CKPT)
        shipped = T.networks(args.blocks, args.down)
        loaded = [train.load_checkpoint(g, f"cyclegan_grouped_{name}_{h}.pt", T.CKPT)
                  for g, h in ((shipped.g_ab, "ab"), (shipped.g_ba, "ba"))]
        utils.seed_everything(T.SEED, threads=args.threads)
        shipped_scores = T.score(*loaded, sets, classifiers)
        print("as shipped (float16):", {k: round(v, 4) for k, v in shipped_scores.items() if isinstance(v, float)})
        record(f"shipped/{name}", {**shipped_scores, "seed": args.seed, "command": command, **times,
                                   "history": {k: getattr(history, k) for k in
                                               ("step", "d_a", "d_b", "g_gan", "cycle", "identity", "lr")}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
