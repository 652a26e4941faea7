"""Training speed of the course's three image models, plain vs fast path: ``python -m utils.scale.bench``.

Measures training images per second (and the peak GPU memory) on synthetic images, for

* pix2pix's default: U-Net 256 generator (width 64, dropout 0.5), 70x70 PatchGAN (n_layers 3), batch norm, lambda 100;
* CycleGAN's default: two 9-block ResNet generators, two 70x70 PatchGANs, instance norm, LSGAN, pools of 50;
* fast style transfer: Johnson et al.'s transformation network (width 32, 5 blocks) and a VGG16 loss network to
  relu4_3 (random weights: the speed is the same);

each for a few batch sizes, with the plain steps of the notebooks (``utils.pix2pix.pix2pix_step``,
``utils.cyclegan.cyclegan_step``, the loop body of ``utils.faststyle.train_fast_style``) and with the fast path's
(``utils.scale.fast``). A warm-up (where ``torch.compile`` compiles and cuDNN autotunes) is not timed. Beside each
figure it prints the official pix2pix/CycleGAN code's on the same hardware class, where the course has one (H200 at
256x256, or the course's 2-core CPU at 256x256, batch 1).

    python -m utils.scale.bench                                   # CUDA: 256x256, the batch sizes of the reference
    python -m utils.scale.bench --device cpu --size 256 --batches 1 --models pix2pix cyclegan
    python -m utils.scale.bench --device cpu --size 32 --steps 1 --warmup 1 --width 8   # the CI smoke test
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import Tensor

from .. import cyclegan, faststyle, perceptual, pix2pix
from . import fast

MODELS = ("pix2pix", "cyclegan", "faststyle")
#: The batch sizes measured on a GPU (those of the reference figures; fast style: Johnson's 4 and a large one).
GPU_BATCHES = {"pix2pix": (1, 16, 64), "cyclegan": (1, 8), "faststyle": (4, 16)}
#: The official code's training images per second (issue 9): one NVIDIA H200, torch 2.11, the authors' defaults,
#: synthetic 256x256 data; and the same code on the course's 2-core CPU (batch 1).
REFERENCE_H200 = {
    ("pix2pix", 1): 90.0,
    ("pix2pix", 16): 950.0,
    ("pix2pix", 64): 1225.0,
    ("cyclegan", 1): 14.9,
    ("cyclegan", 8): 44.6,
}
REFERENCE_CPU = {("pix2pix", 1): 0.66, ("cyclegan", 1): 0.06}


@dataclass
class Result:
    """One measurement: model, path ("plain" or the fast path's switches), batch, size, images per second, the mean
    seconds per step, the peak GPU memory in GiB (None on the CPU) and the official figure to compare, if any."""

    model: str
    path: str
    batch: int
    size: int
    images_per_second: float
    seconds_per_step: float
    peak_gib: float | None
    reference: float | None


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def pix2pix_path(
    G: torch.nn.Module,
    D: torch.nn.Module,
    a: Tensor,
    b: Tensor,
    sp: fast.Speed | None,
    device: torch.device,
    feed: Callable[[int], None] | None = None,
) -> Callable[[], dict]:
    """A function running one pix2pix training step along a path (plain when ``sp`` is None) on the batch tensors
    a, b (N, 3, H, W), already on ``device`` in the path's memory format: copy new batches into them between calls.
    The graph path runs ``fast.GRAPH_WARMUP`` warm-up steps first, ``feed(i)`` before each (see ``fast.graphed``)."""
    if sp is None:
        G.to(device).train(), D.to(device).train()
        opt_g, opt_d = (
            torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999)),
            torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999)),
        )
        return lambda: pix2pix.pix2pix_step(G, D, opt_g, opt_d, (a, b))
    fast.prepare(G, sp, device).train(), fast.prepare(D, sp, device).train()
    run_g, run_d = fast.compiled(G, sp), fast.compiled(D, sp)
    opt_g, opt_d = fast.adam(G.parameters(), sp), fast.adam(D.parameters(), sp)
    step = lambda: fast.train_step_pix2pix(run_g, run_d, opt_g, opt_d, a, b, sp)  # noqa: E731
    return fast.graphed(step, feed=feed) if sp.cuda_graph else step


def pix2pix_trainer(
    batch: int, size: int, width: int, sp: fast.Speed | None, device: torch.device
) -> Callable[[], dict]:
    """A function running one pix2pix training step (plain when ``sp`` is None) on fixed synthetic images."""
    G = pix2pix.unet_generator(3, 3, size, width=width)
    D = pix2pix.patchgan_discriminator(6, width, 3)
    a, b = (fast.images(torch.rand(batch, 3, size, size) * 2 - 1, sp or fast.PLAIN, device) for _ in range(2))
    return pix2pix_path(G, D, a, b, sp, device)


def cyclegan_trainer(
    batch: int, size: int, width: int, sp: fast.Speed | None, device: torch.device
) -> Callable[[], None]:
    """A function running one CycleGAN training step (plain when ``sp`` is None) on fixed synthetic images."""
    nets = cyclegan.CycleGAN(
        cyclegan.resnet_generator(3, 3, width, 9),
        cyclegan.resnet_generator(3, 3, width, 9),
        cyclegan.cyclegan_discriminator(3, width, 3),
        cyclegan.cyclegan_discriminator(3, width, 3),
    )
    a, b = (torch.rand(batch, 3, size, size) * 2 - 1 for _ in range(2))
    pools = cyclegan.ImagePool(50, 0), cyclegan.ImagePool(50, 1)
    if sp is None:
        nets.to(device)
        opt_g = torch.optim.Adam(nets.generators(), 2e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(nets.discriminators(), 2e-4, betas=(0.5, 0.999))
        a, b = a.to(device), b.to(device)
        return lambda: cyclegan.cyclegan_step(nets, opt_g, opt_d, a, b, *pools)
    for net in (nets.g_ab, nets.g_ba, nets.d_a, nets.d_b):
        fast.prepare(net, sp, device).train()
    opt_g, opt_d = fast.adam(nets.generators(), sp), fast.adam(nets.discriminators(), sp)
    run = cyclegan.CycleGAN(*(fast.compiled(n, sp) for n in (nets.g_ab, nets.g_ba, nets.d_a, nets.d_b)))
    a, b = fast.images(a, sp, device), fast.images(b, sp, device)
    if not sp.cuda_graph:
        return lambda: fast.train_step_cyclegan(run, opt_g, opt_d, a, b, *pools, sp)
    # Two graphs, the pools between them on the host: the generators' half, then the discriminators' half on the
    # pooled images, copied into fixed tensors.
    pooled_a, pooled_b = torch.zeros_like(a), torch.zeros_like(b)
    g_half = fast.graphed(lambda: fast.cyclegan_generator_step(run, opt_g, a, b, sp))
    d_half = fast.graphed(lambda: fast.cyclegan_discriminator_step(run, opt_d, a, b, pooled_a, pooled_b, sp))

    def step() -> None:
        _, fake_a, fake_b = g_half()
        pooled_a.copy_(pools[0].query(fake_a))
        pooled_b.copy_(pools[1].query(fake_b))
        d_half()

    return step


def faststyle_trainer(
    batch: int, size: int, width: int, sp: fast.Speed | None, device: torch.device
) -> Callable[[], None]:
    """A function running one fast-style training step (plain when ``sp`` is None) on fixed synthetic images."""
    net = faststyle.TransformNet(width=max(1, width // 2))  # Johnson's width is 32 where the GANs' is 64
    loss_net = perceptual.vgg_features("vgg16", faststyle.STYLE_LAYERS, weights="random")
    x = torch.rand(batch, 3, size, size) * 2 - 1
    style = torch.rand(1, 3, size, size) * 2 - 1
    if sp is None:
        net.to(device).train(), loss_net.to(device)
        x = x.to(device)
        grams = perceptual.style_targets(loss_net, style.to(device), faststyle.STYLE_LAYERS)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        layer = faststyle.CONTENT_LAYER

        def step() -> None:  # the loop body of utils.faststyle.train_fast_style
            with torch.no_grad():
                target = {layer: loss_net.features[: loss_net.layer_index[layer] + 1](loss_net.normalise(x))}
            terms = perceptual.perceptual_objective(loss_net, net(x), target, grams, 1.0, 10.0, 0.0)
            opt.zero_grad(set_to_none=True)
            terms["total"].backward()
            opt.step()

        return step
    fast.prepare(net, sp, device).train(), fast.prepare(loss_net, sp, device)
    grams = perceptual.style_targets(loss_net, style.to(device), faststyle.STYLE_LAYERS)
    run, run_loss = fast.compiled(net, sp), loss_net  # the loss network runs as it is (frozen; compiled with net's
    opt = fast.adam(net.parameters(), sp, lr=1e-3, betas=(0.9, 0.999))  # graph it would not gain much more)
    x = fast.images(x, sp, device)
    step = lambda: fast.train_step_fast_style(run, run_loss, opt, x, grams, sp)  # noqa: E731
    return fast.graphed(step) if sp.cuda_graph else step


TRAINERS = {"pix2pix": pix2pix_trainer, "cyclegan": cyclegan_trainer, "faststyle": faststyle_trainer}


def measure(
    model: str,
    batch: int,
    size: int,
    sp: fast.Speed | None,
    device: torch.device,
    steps: int = 20,
    warmup: int = 5,
    width: int = 64,
) -> Result:
    """Training images per second of ``model`` at ``batch`` x 3 x size x size (plain path when ``sp`` is None)."""
    if model not in TRAINERS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    torch.manual_seed(0)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    step = TRAINERS[model](batch, size, width, sp, device)
    for _ in range(warmup):
        step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    seconds = (time.perf_counter() - start) / steps
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    table = REFERENCE_H200 if device.type == "cuda" else REFERENCE_CPU
    reference = table.get((model, batch)) if size == 256 and width == 64 else None
    return Result(model, str(sp) if sp is not None else "plain", batch, size, batch / seconds, seconds, peak, reference)


def table(results: Sequence[Result]) -> str:
    """The results as a text table, with the speed-up over the plain path and over the official code."""
    plain = {(r.model, r.batch): r.images_per_second for r in results if r.path == "plain"}
    w = max([44, *(len(r.path) for r in results)])
    lines = [
        f"{'model':10s} {'batch':>5s} {'size':>4s} {'path':{w}s} {'img/s':>9s} {'ms/step':>9s} {'peak GiB':>8s} "
        f"{'x plain':>7s} {'official':>8s} {'x official':>10s}"
    ]
    for r in results:
        base = plain.get((r.model, r.batch))
        lines.append(
            f"{r.model:10s} {r.batch:5d} {r.size:4d} {r.path:{w}s} {r.images_per_second:9.3g} "
            f"{1000 * r.seconds_per_step:9.1f} "
            f"{'-' if r.peak_gib is None else f'{r.peak_gib:.2f}':>8s} "
            f"{'-' if base is None else f'{r.images_per_second / base:.2f}':>7s} "
            f"{'-' if r.reference is None else f'{r.reference:g}':>8s} "
            f"{'-' if r.reference is None else f'{r.images_per_second / r.reference:.2f}':>10s}"
        )
    return "\n".join(lines)


PATHS = ("plain", "fast", "graph")


def path_speed(path: str, sp: fast.Speed) -> fast.Speed | None:
    """The switches of a path: "plain" -> None (the notebooks' step), "fast" -> ``sp``, "graph" -> ``sp`` with
    whole-step CUDA graphs."""
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}, got {path!r}")
    return None if path == "plain" else replace(sp, cuda_graph=True) if path == "graph" else sp


def loss_curves(
    steps: int,
    batch: int,
    size: int,
    sp: fast.Speed,
    device: torch.device,
    paths: Sequence[str] = PATHS,
    width: int = 64,
    pairs: int = 256,
) -> dict[str, list[dict[str, float] | None]]:
    """pix2pix's default trained ``steps`` steps on procedural facades (``pairs`` label/photo pairs, size x size,
    batches of ``batch`` in one shuffled order) by each path from one initialisation: {path: [losses of each step]}.

    Each path is the step that ``python -m utils.scale.bench`` times (:func:`pix2pix_path`), fed each batch by a copy
    into its tensors. The graph path's first ``fast.GRAPH_WARMUP`` steps are its warm-up calls and are not logged
    (None).
    """
    from ..data import facades

    data = facades.facades_pairs(pairs, size=size, seed=0)
    # the whole set on the device: no copies from the host inside the loop
    a_all, b_all = data.tensors[0].to(device), data.tensors[1].to(device)
    order = torch.randperm(pairs, generator=torch.Generator().manual_seed(0)).repeat(steps * batch // pairs + 1)
    batches = [order[i * batch : (i + 1) * batch].to(device) for i in range(steps)]
    torch.manual_seed(0)
    G0, D0 = pix2pix.unet_generator(3, 3, size, width=width), pix2pix.patchgan_discriminator(6, width, 3)
    curves: dict[str, list[dict[str, float] | None]] = {}
    for path in paths:
        torch.manual_seed(1)  # one dropout stream per path (its masks differ anyway under another memory format)
        psp = path_speed(path, sp)
        a, b = (fast.images(x[batches[0]], psp or fast.PLAIN, device) for x in (a_all, b_all))

        def feed(i: int, a: Tensor = a, b: Tensor = b) -> None:  # this path's tensors, bound now
            a.copy_(a_all[batches[i]])
            b.copy_(b_all[batches[i]])

        step = pix2pix_path(copy.deepcopy(G0), copy.deepcopy(D0), a, b, psp, device, feed)
        first = fast.GRAPH_WARMUP if psp is not None and psp.cuda_graph else 0
        logs: list[dict[str, Tensor | float] | None] = [None] * first
        for i in range(first, steps):
            feed(i)  # the fast paths' losses stay on the device (cloned: a graph overwrites them) until the end
            logs.append({k: v.clone() if isinstance(v, Tensor) else v for k, v in step().items()})
        curves[path] = [None if entry is None else {k: float(v) for k, v in entry.items()} for entry in logs]
    return curves


def curve_table(curves: dict[str, list[dict[str, float] | None]], windows: int = 8) -> str:
    """Mean of each loss over ``windows`` equal stretches of training, one row per stretch and path."""
    paths = list(curves)
    steps = len(curves[paths[0]])
    windows = max(1, min(windows, steps))
    keys = [k for k in ("d_loss", "g_gan", "l1") if any(e and k in e for e in curves[paths[0]])]
    lines = [f"{'steps':>11s} {'path':6s} " + " ".join(f"{k:>8s}" for k in keys)]
    edges = [round(i * steps / windows) for i in range(windows + 1)]
    for lo, hi in zip(edges, edges[1:]):
        for path in paths:
            entries = [e for e in curves[path][lo:hi] if e is not None]
            means = [sum(e[k] for e in entries) / len(entries) if entries else float("nan") for k in keys]
            lines.append(f"{lo + 1:>5d}-{hi:<5d} {path:6s} " + " ".join(f"{m:8.4f}" for m in means))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(
        prog="python -m utils.scale.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--size", type=int, default=None, help="image side (default 256 on CUDA, 64 on the CPU)")
    parser.add_argument(
        "--batches",
        type=int,
        nargs="+",
        default=None,
        help="batch sizes for every model (default: the reference's on CUDA, 1 on the CPU)",
    )
    parser.add_argument(
        "--paths",
        nargs="+",
        choices=PATHS,
        default=None,
        help="plain: the notebooks' step; fast: utils.scale.fast; graph: fast + whole-step CUDA graphs "
        "(default: all three on CUDA, plain and fast on the CPU)",
    )
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default 20 on CUDA, 3 on the CPU)")
    parser.add_argument(
        "--warmup", type=int, default=None, help="untimed steps first (default 10 on CUDA, 1 on the CPU)"
    )
    parser.add_argument("--width", type=int, default=64, help="the GANs' base width (64: the reference architectures)")
    parser.add_argument(
        "--compile",
        choices=("auto", "on", "off"),
        default="auto",
        help="torch.compile on the fast path (auto: on CUDA only)",
    )
    parser.add_argument("--compile-mode", default="default", choices=fast.COMPILE_MODES)
    parser.add_argument("--bf16", choices=("auto", "on", "off"), default="auto", help="bf16 autocast (auto: CUDA only)")
    parser.add_argument(
        "--channels-last",
        choices=("auto", "on", "off"),
        default="auto",
        help="channels-last memory format on the fast path (auto: CUDA only)",
    )
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    parser.add_argument(
        "--curves",
        type=int,
        default=None,
        metavar="STEPS",
        help="instead of timing: train pix2pix's default STEPS steps on procedural facades along each "
        "path from one initialisation and print the loss curves side by side (batch: the first "
        "of --batches, default 16)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here (after each measurement)")
    parser.add_argument(
        "--keep-going", action="store_true", help="on an error in one measurement, print it and go on with the next"
    )
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda, but PyTorch sees no CUDA GPU here; use --device cpu")
    if args.threads:
        torch.set_num_threads(args.threads)
    # Each model, batch size and requires_grad setting is a compiled graph of its own (dynamic=False): allow them all
    # rather than fall back to eager after dynamo's default 8 per function.
    for name in ("recompile_limit", "cache_size_limit"):
        if hasattr(torch._dynamo.config, name):
            setattr(torch._dynamo.config, name, 64)
    gpu = device.type == "cuda"
    size = args.size or (256 if gpu else 64)
    steps, warmup = args.steps or (20 if gpu else 3), args.warmup if args.warmup is not None else (10 if gpu else 1)
    overrides = {
        k: v == "on"
        for k, v in (("compile", args.compile), ("bf16", args.bf16), ("channels_last", args.channels_last))
        if v != "auto"
    }
    sp = fast.speed(True, device, compile_mode=args.compile_mode, **overrides)
    paths = args.paths or (list(PATHS) if gpu else ["plain", "fast"])
    if "graph" in paths and not gpu:
        parser.error("--paths graph captures CUDA graphs and needs --device cuda")
    where = (
        torch.cuda.get_device_name(device)
        if gpu
        else f"CPU ({platform.processor() or platform.machine()}), {torch.get_num_threads()} threads"
    )
    if args.curves is not None:
        batch = (args.batches or [16])[0]
        print(
            f"loss curves on {where}, torch {torch.__version__}: pix2pix, {args.curves} steps of batch {batch} at "
            f"{size}x{size}, paths {', '.join(paths)}",
            flush=True,
        )
        start = time.perf_counter()
        curves = loss_curves(args.curves, batch, size, sp, device, paths, args.width)
        print(curve_table(curves))
        print(f"({time.perf_counter() - start:.0f} s)")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(
                json.dumps(
                    {
                        "device": where,
                        "torch": torch.__version__,
                        "command": " ".join(sys.argv),
                        "speed": str(sp),
                        "curves": curves,
                    }
                )
                + "\n"
            )
        return []
    print(f"training speed on {where}, torch {torch.__version__}; {steps} timed steps after {warmup} warm-up steps")
    results = []
    for model in args.models:
        batches = args.batches or (GPU_BATCHES[model] if gpu else (1,))
        for batch in batches:
            for path in paths:
                try:
                    r = measure(model, batch, size, path_speed(path, sp), device, steps, warmup, args.width)
                except Exception as error:  # noqa: BLE001 - reported, and re-raised unless --keep-going
                    if not args.keep_going:
                        raise
                    print(
                        f"  {model} batch {batch} {path}: FAILED: {type(error).__name__}: "
                        f"{str(error).strip().splitlines()[0][:300] if str(error).strip() else ''}",
                        flush=True,
                    )
                    continue
                print(f"  {r.model} batch {r.batch} {r.path}: {r.images_per_second:.3g} img/s", flush=True)
                results.append(r)
                if args.json:
                    args.json.parent.mkdir(parents=True, exist_ok=True)
                    args.json.write_text(
                        json.dumps(
                            {
                                "device": where,
                                "torch": torch.__version__,
                                "command": " ".join(sys.argv),
                                "results": [asdict(r) for r in results],
                            },
                            indent=1,
                        )
                        + "\n"
                    )
    print(table(results))
    return results


if __name__ == "__main__":
    main()
