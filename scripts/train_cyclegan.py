#!/usr/bin/env python3
"""Train notebook 07's checkpoints: CycleGAN between handwritten and typeset digits, with and without the cycle loss.

First the measuring instruments: two digit classifiers, one per domain (handwritten: scikit-learn's digits; typeset:
digits rendered from matplotlib's fonts), trained on labelled images the CycleGANs never see and frozen. Then two
CycleGANs with the same data, networks, seed and number of steps, differing only in the cycle loss:

    cycle     the full objective: LSGAN both ways + lambda 10 x cycle (both directions) + 0.5 lambda x identity
    nocycle   lambda = 0: the adversarial losses alone (the identity loss is weighted by lambda, so it goes too)

Every shipped checkpoint is then loaded back (exactly the bytes in notebooks/checkpoints/, SHA-256 checked) and scored
on held-out digits of both domains: the rate at which a translated digit keeps its class (read by the other domain's
classifier), the class histogram of the outputs and its KL to uniform, the outputs' diversity (mean pairwise distance,
beside the real images'), and the cycle error. Writes notebooks/checkpoints/cyclegan_*.pt, digits_*_classifier.pt and
their SHA256SUMS lines, and notebooks/data/cyclegan_results.json:

    python scripts/train_cyclegan.py                      # everything, one after the other (1 thread)
    python scripts/train_cyclegan.py --stage classifiers  # or stage by stage: the classifiers first, then
    python scripts/train_cyclegan.py --stage cycle        #  the two CycleGANs (in parallel processes if you like),
    python scripts/train_cyclegan.py --stage nocycle
    python scripts/train_cyclegan.py --stage score        #  then the scores
    python scripts/train_cyclegan.py --stage seed --seed 1  # both rows again with another seed, scores only

The weight of the cycle loss, swept with the same recipe (only lambda changes; the identity loss stays 0.5 lambda),
one process per lambda and seed (run two at once on two cores), then gathered into notebooks/data/cyclegan_lambda.json
together with the lambda = 10 and lambda = 0 rows above (the same training, already scored):

    python scripts/train_cyclegan.py --stage lambda --lam 3 --seed 0   # and --lam 0.3, 1, 30; --seed 1
    python scripts/train_cyclegan.py --stage lambda-table

Per-stage logs (and the checkpoints of seeds that are not shipped) go to a work folder: a fresh temporary one per
run unless ``--work DIR`` names one. Stages run as separate processes share their logs through ``--work DIR`` (give
the same DIR to every stage of one run); a stage only gathers the logs that stages of its run listed in
DIR/written.txt, never stray files of older runs. Another seed's scores are added to "other_seeds" (the shipped
recipe) or "other_runs" (another number of steps) without replacing another run's record.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from runlog import add_seed_record, read_log, work_folder, write_log, written  # scripts/runlog.py

import utils
from utils import cyclegan, data, metrics, models, train
from utils.course import checkpoints

ROOT = Path(__file__).resolve().parents[1]
CKPT = ROOT / "notebooks" / "checkpoints"
OUT = ROOT / "notebooks" / "data" / "cyclegan_results.json"

# The recipe (notebook 07 trains the default model, "cycle", with the same numbers in learner mode).
SIZE = 16
G_WIDTH, G_BLOCKS, G_DOWN = 32, 6, 2  # resnet_generator(1, 1, G_WIDTH, G_BLOCKS, G_DOWN)
D_WIDTH, D_LAYERS = 32, 2  # cyclegan_discriminator(1, D_WIDTH, D_LAYERS): 34x34 patches
BATCH, STEPS, LR, LAMBDA, LAMBDA_ID, POOL, SEED = 8, 3000, 2e-4, 10.0, 0.5, 50, 0
TYPESET_TRAIN, TYPESET_TEST, TYPESET_CLS = (2000, 10), (500, 11), (3000, 12)  # (n, seed) of each typeset set
CLS_EPOCHS = {"handwritten": 15, "typeset": 5}
MODELS = {"cycle": LAMBDA, "nocycle": 0.0}
LAMBDA_OUT = ROOT / "notebooks" / "data" / "cyclegan_lambda.json"
LABELS = {"cycle": "with the cycle loss", "nocycle": "without the cycle loss"}


def domains() -> dict[str, torch.utils.data.TensorDataset]:
    """The course's fixed splits: CycleGAN training images, held-out test images and the classifiers' own images."""
    return {
        "train_a": data.digits(SIZE, "train"),
        "test_a": data.digits(SIZE, "test"),
        "train_b": data.typeset_digits(SIZE, *TYPESET_TRAIN),
        "test_b": data.typeset_digits(SIZE, *TYPESET_TEST),
        "cls_b": data.typeset_digits(SIZE, *TYPESET_CLS),
    }


def networks() -> cyclegan.CycleGAN:
    """A fresh CycleGAN with the recipe's sizes (seed first for reproducible weights)."""
    return cyclegan.CycleGAN(
        cyclegan.resnet_generator(1, 1, G_WIDTH, G_BLOCKS, G_DOWN),
        cyclegan.resnet_generator(1, 1, G_WIDTH, G_BLOCKS, G_DOWN),
        cyclegan.cyclegan_discriminator(1, D_WIDTH, D_LAYERS),
        cyclegan.cyclegan_discriminator(1, D_WIDTH, D_LAYERS),
    )


def classifiers_stage(work: Path, threads: int) -> None:
    """Train and freeze one digit classifier per domain, on labelled images kept apart from the CycleGANs'."""
    sets = domains()
    log = {"machine": utils.settings.machine()}
    for name, train_set, test_set in (
        ("handwritten", sets["train_a"], sets["test_a"]),
        ("typeset", sets["cls_b"], sets["test_b"]),
    ):
        utils.seed_everything(SEED, threads=threads)
        net = models.DigitClassifier(size=SIZE)
        start = time.perf_counter()
        train.train_classifier(net, train_set, epochs=CLS_EPOCHS[name], device=torch.device("cpu"), desc=name)
        checkpoints.save_checkpoint(net, f"digits_{name}_classifier.pt", CKPT)
        acc = metrics.classifier_accuracy(net, *test_set.tensors)
        log[name] = {"held_out_accuracy": acc, "train_seconds": time.perf_counter() - start}
        print(f"{name} classifier: held-out accuracy {acc:.4f}")
    write_log(work, "classifiers.json", log)


def train_row(lam: float, seed: int, steps: int, threads: int, desc: str, folder: Path, name: str) -> dict:
    """Train the recipe with cycle weight ``lam`` from ``seed``; save both generators (float16) as
    folder/cyclegan_{name}_{ab,ba}.pt and return the training log."""
    sets = domains()
    utils.seed_everything(seed, threads=threads)
    nets = networks()
    cpu = time.process_time()
    history = cyclegan.train_cyclegan(
        nets,
        sets["train_a"],
        sets["train_b"],
        steps,
        BATCH,
        LR,
        lambda_cycle=lam,
        lambda_identity=LAMBDA_ID,
        pool_size=POOL,
        log_every=50,
        seed=seed,
        device=torch.device("cpu"),
        desc=desc,
    )
    cpu = time.process_time() - cpu
    checkpoints.save_checkpoint(nets.g_ab, f"cyclegan_{name}_ab.pt", folder)
    checkpoints.save_checkpoint(nets.g_ba, f"cyclegan_{name}_ba.pt", folder)
    return {
        "train_seconds": history.seconds,
        "train_cpu_seconds": cpu,
        "steps": steps,
        "machine": utils.settings.machine(),
        "history": {k: getattr(history, k) for k in ("step", "d_a", "d_b", "g_gan", "cycle", "identity", "lr")},
    }


def train_stage(work: Path, name: str, steps: int, threads: int, seed: int = SEED) -> None:
    """Train one row with the shared recipe; seed SEED is shipped (float16), other seeds stay in the work folder."""
    folder = CKPT if seed == SEED else work / f"seed{seed}"
    log = train_row(MODELS[name], seed, steps, threads, LABELS[name], folder, name)
    write_log(work, f"seed{seed}/{name}.json", log)


def load_classifiers() -> dict[str, torch.nn.Module]:
    """The two frozen classifiers, as shipped."""
    return {
        name: checkpoints.load_checkpoint(
            models.DigitClassifier(size=SIZE), f"digits_{name}_classifier.pt", CKPT
        ).eval()
        for name in ("handwritten", "typeset")
    }


def score(g_ab: torch.nn.Module, g_ba: torch.nn.Module, sets: dict, cls: dict) -> dict:
    """Class kept both ways, the A -> B outputs' class histogram, KL to uniform and diversity, the cycle errors."""
    (a, ya), (b, yb) = sets["test_a"].tensors, sets["test_b"].tensors
    fake_b, fake_a = cyclegan.translate(g_ab, a), cyclegan.translate(g_ba, b)
    hist = metrics.class_histogram(cls["typeset"], fake_b)
    return {
        "keep_ab": metrics.classifier_accuracy(cls["typeset"], fake_b, ya),
        "keep_ba": metrics.classifier_accuracy(cls["handwritten"], fake_a, yb),
        "histogram_ab": hist.tolist(),
        "kl_ab": metrics.histogram_kl(hist),
        "diversity_ab": metrics.diversity(fake_b),
        "diversity_ba": metrics.diversity(fake_a),
        "cycle_error_a": float((cyclegan.translate(g_ba, fake_b) - a).abs().mean()),
        "cycle_error_b": float((cyclegan.translate(g_ab, fake_a) - b).abs().mean()),
    }


def load_generators(name: str, folder: Path) -> tuple[torch.nn.Module, torch.nn.Module]:
    """A row's two generators from their checkpoints (SHA-256 checked)."""
    nets = networks()
    return (
        checkpoints.load_checkpoint(nets.g_ab, f"cyclegan_{name}_ab.pt", folder),
        checkpoints.load_checkpoint(nets.g_ba, f"cyclegan_{name}_ba.pt", folder),
    )


def score_stage(work: Path, threads: int, command: str) -> None:
    """Score the shipped checkpoints on the held-out digits and write the JSON."""
    utils.seed_everything(SEED, threads=threads)
    sets, cls = domains(), load_classifiers()
    cls_log = read_log(work, "classifiers.json")
    rows, runs = {}, {}
    for name in MODELS:
        rows[name] = score(*load_generators(name, CKPT), sets, cls)
        runs[name] = read_log(work, f"seed{SEED}/{name}.json")
        print(f"{LABELS[name]:24s} {rows[name]} | {runs[name]['train_seconds']:.0f} s of training")
    rows["real"] = {
        "diversity_a": metrics.diversity(sets["test_a"].tensors[0]),
        "diversity_b": metrics.diversity(sets["test_b"].tensors[0]),
    }
    out = {
        "setup": (
            f"handwritten (scikit-learn digits, {len(sets['train_a'])} training images) <-> typeset digits "
            f"({TYPESET_TRAIN[0]}, seed {TYPESET_TRAIN[1]}) at {SIZE}x{SIZE}; resnet_generator(width {G_WIDTH}, "
            f"{G_BLOCKS} blocks, {G_DOWN} downsamplings), cyclegan_discriminator(width {D_WIDTH}, {D_LAYERS} "
            f"layers), batch {BATCH}, {STEPS} steps, Adam lr {LR} betas (0.5, 0.999) decayed linearly over the "
            f"second half, pool {POOL}, lambda {LAMBDA:g} (or 0), identity {LAMBDA_ID:g} lambda, seed {SEED}; "
            f"scored on {len(sets['test_a'])} held-out handwritten and {TYPESET_TEST[0]} typeset digits "
            f"(seed {TYPESET_TEST[1]}) with classifiers trained before any CycleGAN and frozen"
        ),
        "command": command,
        "classifiers": {k: v for k, v in cls_log.items() if k != "machine"},
        "machine": runs["cycle"]["machine"],
        "scores": rows,
        "train_seconds": {n: runs[n]["train_seconds"] for n in MODELS},
        "train_cpu_seconds": {n: runs[n]["train_cpu_seconds"] for n in MODELS},
        "steps": {n: runs[n]["steps"] for n in MODELS},
        "history": {n: runs[n]["history"] for n in MODELS},
    }
    if OUT.exists():  # keep the other seeds and runs already measured (they are other runs' records)
        old = json.loads(OUT.read_text())
        out.update({k: old[k] for k in ("other_seeds", "other_runs") if k in old})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


def seed_stage(work: Path, seed: int, steps: int, threads: int, command: str) -> None:
    """Both rows again with another seed (same data, recipe and frozen classifiers); see :func:`add_seed_record`."""
    if seed == SEED:
        raise SystemExit(f"seed {SEED} is the shipped run: use --stage all (or its stages) to remeasure it")
    for name in MODELS:
        train_stage(work, name, steps, threads, seed)
    utils.seed_everything(SEED, threads=threads)
    sets, cls = domains(), load_classifiers()
    rows = {}
    for name in MODELS:
        rows[name] = score(*load_generators(name, work / f"seed{seed}"), sets, cls)
        rows[name]["train_seconds"] = read_log(work, f"seed{seed}/{name}.json")["train_seconds"]
        print(f"seed {seed} {LABELS[name]:24s} {rows[name]}")
    out = json.loads(OUT.read_text())
    where = add_seed_record(out, seed, steps, command, rows)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"added seed {seed} to {OUT} as {where}")


def lambda_stage(work: Path, lam: float, seed: int, steps: int, threads: int, command: str) -> None:
    """Train the recipe with cycle weight ``lam`` (identity 0.5 lam, as always), score the saved float16 generators
    as the shipped ones are scored, and keep the row in the work folder."""
    folder = work / "lambda" / f"lambda{lam:g}_seed{seed}_steps{steps}"
    log = train_row(lam, seed, steps, threads, f"lambda {lam:g}", folder, "run")
    utils.seed_everything(SEED, threads=threads)
    nets = networks()
    g_ab = checkpoints.load_checkpoint(nets.g_ab, "cyclegan_run_ab.pt", folder)
    g_ba = checkpoints.load_checkpoint(nets.g_ba, "cyclegan_run_ba.pt", folder)
    row = {
        "lambda": lam,
        "seed": seed,
        "steps": steps,
        **score(g_ab, g_ba, domains(), load_classifiers()),
        "train_seconds": log["train_seconds"],
        "train_cpu_seconds": log["train_cpu_seconds"],
        "threads": threads,
        "machine": log["machine"],
        "command": command,
    }
    print({k: v for k, v in row.items() if k.startswith(("keep", "train"))})
    write_log(work, f"lambda/{folder.name}.json", row)


def lambda_table_stage(work: Path) -> None:
    """Gather the lambda rows this run wrote and the shipped rows (lambda 10 and 0, every seed and run of
    cyclegan_results.json) into notebooks/data/cyclegan_lambda.json, sorted by lambda, seed and steps."""
    rows = {
        (r["lambda"], r["seed"], r["steps"]): r
        for r in (read_log(work, rel) for rel in written(work) if rel.startswith("lambda/"))
    }
    if not rows:
        raise SystemExit(f"no lambda rows written by this run in {work}: run --stage lambda --lam X --work {work}")
    shipped = json.loads(OUT.read_text())
    seeds = [  # (seed, record); records written before they carried their seed are keyed by it in "other_seeds"
        (SEED, {"command": shipped["command"], "scores": shipped["scores"], "steps": shipped["steps"]}),
        *((int(v.get("seed", k)), v) for k, v in shipped.get("other_seeds", {}).items()),
        *((int(v["seed"]), v) for v in shipped.get("other_runs", {}).values()),
    ]
    for seed, entry in seeds:
        for name, lam in MODELS.items():
            steps = entry.get("config", {}).get("steps") or entry.get("steps", shipped["steps"])[name]
            key = (lam, int(seed), steps)
            rows.setdefault(
                key,
                {
                    "lambda": lam,
                    "seed": int(seed),
                    "steps": key[2],
                    **entry["scores"][name],
                    "command": entry["command"],
                },
            )
    out = {
        "setup": (
            f"the recipe of cyclegan_results.json with cycle weight lambda (identity weight "
            f"{LAMBDA_ID:g} lambda); lambda 10 and 0 are its two shipped rows and their other seeds; "
            f"scored as cyclegan_results.json"
        ),
        "rows": [rows[k] for k in sorted(rows)],
    }
    LAMBDA_OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(rows)} rows to {LAMBDA_OUT}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--stage", choices=["all", "classifiers", *MODELS, "score", "seed", "lambda", "lambda-table"], default="all"
    )
    parser.add_argument("--lam", type=float, default=LAMBDA, help="the cycle weight of --stage lambda")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="the init seed of --stage seed (default 1) and --stage lambda (default 0)",
    )
    parser.add_argument("--steps", type=int, default=STEPS, help="training steps (the same for both rows)")
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
    work = work_folder(args.work, "train_cyclegan-")
    print(f"work folder: {work}" + ("" if args.work else f" (pass --work {work} to this run's later stages)"))
    if args.stage in ("all", "classifiers"):
        classifiers_stage(work, args.threads)
    for name in MODELS:
        if args.stage in ("all", name):
            train_stage(work, name, args.steps, args.threads)
    if args.stage in ("all", "score"):
        score_stage(work, args.threads, command)
    if args.stage == "seed":
        seed_stage(work, 1 if args.seed is None else args.seed, args.steps, args.threads, command)
    if args.stage == "lambda":
        lambda_stage(work, args.lam, SEED if args.seed is None else args.seed, args.steps, args.threads, command)
    if args.stage == "lambda-table":
        lambda_table_stage(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
