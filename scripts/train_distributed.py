#!/usr/bin/env python3
"""Train pix2pix, CycleGAN or fast style transfer at full size, on one process or many, on the fast path.

The notebooks are the teaching path; this is the script for the GPU(s). The same command runs alone or under
torchrun, unchanged (DistributedDataParallel, a DistributedSampler, NCCL between GPUs, gloo between CPU processes):

    python scripts/train_distributed.py --model pix2pix --out runs/pix2pix                # one process
    torchrun --nproc_per_node=4 scripts/train_distributed.py --model cyclegan --out runs/cyclegan   # 4 GPUs
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv-backend=c10d --rdzv-endpoint=HOST:29500 \\
        --rdzv-id=job1 scripts/train_distributed.py --model faststyle --out runs/style      # 2 machines (appendix)
    tensorboard --logdir runs                                                              # watch the losses

``--batch`` is per process (the global batch is batch x processes). A checkpoint (``OUT/checkpoint.pt``, plus one
small ``checkpoint.rank<r>.pt`` per process for CycleGAN's image pools) is written every ``--save-every`` steps and at
the end; ``--resume`` continues from it at the step it saved, with the batches, dropout masks and pool draws the
uninterrupted run would have had (each step's random seed depends only on the seed, the step and the rank).

Data: offline by default (procedural facades; photos <-> painterly crops; crops of the bundled photos), or the real
sets once downloaded (``--data facades``, ``--data horse2zebra``, ``--data monet2photo``; see utils.data.download).
The defaults are the papers': pix2pix U-Net 256 + 70x70 PatchGAN with batch norm and lambda 100; CycleGAN 9-block
ResNet generators, instance norm, LSGAN, pools of 50, lambda 10 and identity 0.5, linear decay over the second half;
Johnson et al.'s network with a VGG16 loss network (ImageNet weights when cached, else random: see utils.perceptual).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from utils import cyclegan, data, faststyle, perceptual, pix2pix
from utils.data import download, facades
from utils.scale import distributed, fast

MODELS = ("pix2pix", "cyclegan", "faststyle")
DATA = {
    "pix2pix": ("procedural", "facades"),
    "cyclegan": ("procedural", "horse2zebra", "monet2photo"),
    "faststyle": ("procedural",),
}


@dataclass
class Job:
    """What the loop needs from a model: its networks (unwrapped, as saved), optimisers, schedules, one training
    step (global step -> detached scalar tensors), the per-process state to save, and a preview image batch."""

    nets: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    step: Callable[[int], dict[str, Tensor]]
    preview: Callable[[], Tensor]
    schedules: dict[str, torch.optim.lr_scheduler.LRScheduler] = field(default_factory=dict)
    local_state: Callable[[], dict] = dict
    load_local: Callable[[dict], None] = lambda state: None


def on_device(*sets: Tensor, proc: distributed.Process) -> list[Tensor]:
    """The training images, moved to this process's device once (a few hundred MB at 256x256: no copy per step)."""
    return [images.to(proc.device) for images in sets]


def batch_of(images: Tensor, indices: Tensor, sp: fast.Speed, proc: distributed.Process) -> Tensor:
    """The images at ``indices`` (a batch gathered where the images are), in the fast path's memory format."""
    return fast.images(images[indices.to(images.device, non_blocking=True)], sp, proc.device)


def frozen_preview(net: nn.Module, x: Tensor) -> Callable[[], Tensor]:
    """A function returning net(x) in eval mode (no statistics updated), mapped to [0, 1] for TensorBoard."""

    def preview() -> Tensor:
        was = net.training
        net.eval()
        with torch.no_grad():
            out = net(x)
        net.train(was)
        return (out.float().clamp(-1, 1) + 1) / 2

    return preview


def pix2pix_job(args: argparse.Namespace, proc: distributed.Process, sp: fast.Speed) -> Job:
    """pix2pix: label map -> photo (procedural facades, or CMP Facades once downloaded)."""
    if args.data == "facades":
        a, b = data.aligned_pairs(download.fetch("facades") / "facades" / "train", args.size, "BtoA").tensors
    else:
        a, b, _ = facades.facades_pairs(args.n_train, args.size, seed=0).tensors
    a, b = on_device(a, b, proc=proc)
    G = fast.prepare(pix2pix.unet_generator(3, 3, args.size, width=args.width), sp, proc.device).train()
    D = fast.prepare(pix2pix.patchgan_discriminator(6, args.width, 3), sp, proc.device).train()
    run_g, run_d = (fast.compiled(distributed.wrap(net, proc), sp) for net in (G, D))
    d_for_g = fast.compiled(D, sp)  # G's loss reaches D through the unwrapped D: no gradient for D to average
    opt_g, opt_d = fast.adam(G.parameters(), sp, args.lr), fast.adam(D.parameters(), sp, args.lr)
    shards = distributed.ShardedBatches(len(a), args.batch, proc, args.seed)

    def step(i: int) -> dict[str, Tensor]:
        idx = shards.at(i)
        return fast.train_step_pix2pix(
            run_g,
            run_d,
            opt_g,
            opt_d,
            batch_of(a, idx, sp, proc),
            batch_of(b, idx, sp, proc),
            sp,
            args.lambda_l1,
            d_for_g=d_for_g,
        )

    return Job(
        {"G": G, "D": D}, {"G": opt_g, "D": opt_d}, step, frozen_preview(G, batch_of(a, torch.arange(4), sp, proc))
    )


def cyclegan_job(args: argparse.Namespace, proc: distributed.Process, sp: fast.Speed) -> Job:
    """CycleGAN: photos <-> painterly crops (or horse2zebra / monet2photo once downloaded)."""
    if args.data in ("horse2zebra", "monet2photo"):
        a, b = data.unpaired_folders(download.fetch(args.data) / args.data, args.size)
    else:
        a, b = data.photo_painting_domains(args.size, args.n_train, seed=0)
    a, b = on_device(a, b, proc=proc)
    nets = cyclegan.CycleGAN(
        *(
            fast.prepare(net, sp, proc.device).train()
            for net in (
                cyclegan.resnet_generator(3, 3, args.width, args.blocks),
                cyclegan.resnet_generator(3, 3, args.width, args.blocks),
                cyclegan.cyclegan_discriminator(3, args.width, 3),
                cyclegan.cyclegan_discriminator(3, args.width, 3),
            )
        )
    )
    run = cyclegan.CycleGAN(
        *(fast.compiled(distributed.wrap(net, proc), sp) for net in (nets.g_ab, nets.g_ba, nets.d_a, nets.d_b))
    )
    d_for_g = (fast.compiled(nets.d_a, sp), fast.compiled(nets.d_b, sp))
    opt_g, opt_d = fast.adam(nets.generators(), sp, args.lr), fast.adam(nets.discriminators(), sp, args.lr)
    decay = cyclegan.linear_decay(args.steps, args.steps // 2)
    schedules = {name: torch.optim.lr_scheduler.LambdaLR(opt, decay) for name, opt in (("G", opt_g), ("D", opt_d))}
    pools = [cyclegan.ImagePool(args.pool, seed=args.seed * 1000 + 2 * proc.rank + k) for k in (0, 1)]
    shards_a = distributed.ShardedBatches(len(a), args.batch, proc, args.seed)
    shards_b = distributed.ShardedBatches(len(b), args.batch, proc, args.seed + 1)

    def step(i: int) -> dict[str, Tensor]:
        return fast.train_step_cyclegan(
            run,
            opt_g,
            opt_d,
            batch_of(a, shards_a.at(i), sp, proc),
            batch_of(b, shards_b.at(i), sp, proc),
            *pools,
            sp,
            args.lambda_cycle,
            args.lambda_identity,
            d_for_g=d_for_g,
        )

    def local_state() -> dict:
        return {"pools": [{"images": [im.cpu() for im in p.images], "rng": p.rng.getstate()} for p in pools]}

    def load_local(state: dict) -> None:
        for pool, saved in zip(pools, state["pools"]):
            pool.images = [im.to(proc.device) for im in saved["images"]]
            pool.rng.setstate(saved["rng"])

    return Job(
        {"g_ab": nets.g_ab, "g_ba": nets.g_ba, "d_a": nets.d_a, "d_b": nets.d_b},
        {"G": opt_g, "D": opt_d},
        step,
        frozen_preview(nets.g_ab, batch_of(a, torch.arange(4), sp, proc)),
        schedules,
        local_state,
        load_local,
    )


def faststyle_job(args: argparse.Namespace, proc: distributed.Process, sp: fast.Speed) -> Job:
    """Fast style transfer: crops of the bundled photos, styled like the painterly dahlia of notebook 09."""
    (content,) = on_device(faststyle.content_sampler(args.size, seed=0)(args.n_train), proc=proc)
    loss_net = fast.prepare(
        perceptual.vgg_features("vgg16", faststyle.STYLE_LAYERS, weights=args.vgg_weights, progress=proc.main),
        sp,
        proc.device,
    )
    grams = perceptual.style_targets(
        loss_net, faststyle.style_image(size=args.size).to(proc.device), faststyle.STYLE_LAYERS
    )
    net = fast.prepare(faststyle.TransformNet(width=args.width // 2), sp, proc.device).train()
    run = fast.compiled(distributed.wrap(net, proc), sp)
    opt = fast.adam(net.parameters(), sp, 1e-3, betas=(0.9, 0.999))
    shards = distributed.ShardedBatches(len(content), args.batch, proc, args.seed)

    def step(i: int) -> dict[str, Tensor]:
        return fast.train_step_fast_style(
            run,
            loss_net,
            opt,
            batch_of(content, shards.at(i), sp, proc),
            grams,
            sp,
            style_weight=args.style_weight,
            tv_weight=args.tv_weight,
        )

    return Job({"net": net}, {"net": opt}, step, frozen_preview(net, batch_of(content, torch.arange(4), sp, proc)))


JOBS = {"pix2pix": pix2pix_job, "cyclegan": cyclegan_job, "faststyle": faststyle_job}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=MODELS, required=True)
    p.add_argument("--out", type=Path, required=True, help="folder for the checkpoint and the TensorBoard log")
    p.add_argument("--data", default="procedural", help="procedural (offline), or facades / horse2zebra / monet2photo")
    p.add_argument("--steps", type=int, default=20000, help="total training steps")
    p.add_argument(
        "--stop-after",
        type=int,
        default=None,
        help="stop (with a checkpoint) after this step, as if interrupted; --resume continues",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=None,
        help="images per process per step (pix2pix 1, CycleGAN 1, fast style 4: the papers')",
    )
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--width", type=int, default=64, help="base width (fast style uses half: Johnson's 32)")
    p.add_argument("--blocks", type=int, default=9, help="CycleGAN's residual blocks")
    p.add_argument("--n-train", type=int, default=400, help="procedural training images (CMP Facades has 400)")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--lambda-l1", type=float, default=100.0)
    p.add_argument("--lambda-cycle", type=float, default=10.0)
    p.add_argument("--lambda-identity", type=float, default=0.5)
    p.add_argument("--pool", type=int, default=50)
    p.add_argument("--style-weight", type=float, default=10.0)
    p.add_argument("--tv-weight", type=float, default=0.0)
    p.add_argument("--vgg-weights", default="auto", help="auto, imagenet, random or a .pth path (utils.perceptual)")
    p.add_argument("--plain", action="store_true", help="turn the fast path off (the notebooks' plain training)")
    p.add_argument("--compile", choices=("auto", "on", "off"), default="auto", help="torch.compile (auto: on CUDA)")
    p.add_argument("--compile-mode", default="default", choices=fast.COMPILE_MODES)
    p.add_argument(
        "--channels-last",
        choices=("auto", "on", "off"),
        default="auto",
        help="channels-last memory format (auto: on CUDA)",
    )
    p.add_argument("--device", default=None, help="cuda or cpu (default: cuda when there is one)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="CPU threads per process")
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--save-every", type=int, default=1000)
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument(
        "--dump-replicas",
        action="store_true",
        help="at the end, every process saves its own weights to OUT/replica<rank>.pt (tests compare them)",
    )
    args = p.parse_args(argv)
    if args.data not in DATA[args.model]:
        p.error(f"--data for {args.model} is one of {DATA[args.model]}, got {args.data!r}")
    args.batch = args.batch or {"pix2pix": 1, "cyclegan": 1, "faststyle": 4}[args.model]
    for name in ("steps", "batch", "size", "log_every", "save_every", "n_train"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def checkpoint_state(job: Job, step: int, args: argparse.Namespace) -> dict:
    """Everything rank 0 saves: the step done, the networks, optimisers, schedules and the arguments."""
    return {
        "step": step,
        "nets": {k: v.state_dict() for k, v in job.nets.items()},
        "optimizers": {k: v.state_dict() for k, v in job.optimizers.items()},
        "schedules": {k: v.state_dict() for k, v in job.schedules.items()},
        "args": {k: str(v) for k, v in vars(args).items()},
    }


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    proc = distributed.start(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = {
        k: v == "on" for k, v in (("compile", args.compile), ("channels_last", args.channels_last)) if v != "auto"
    }
    sp = fast.speed(not args.plain, proc.device, compile_mode=args.compile_mode, **overrides)
    torch.manual_seed(args.seed)  # the same initial weights on every process (DDP broadcasts rank 0's anyway)
    job = JOBS[args.model](args, proc, sp)
    ckpt = args.out / "checkpoint.pt"
    start = 0
    if args.resume:
        state = distributed.load(ckpt, proc)
        for k, net in job.nets.items():
            net.load_state_dict(state["nets"][k])
        for k, opt in job.optimizers.items():
            opt.load_state_dict(state["optimizers"][k])
        for k, sched in job.schedules.items():
            sched.load_state_dict(state["schedules"][k])
        start = state["step"]
        if job.local_state() and distributed.rank_path(ckpt, proc.rank).is_file():
            job.load_local(distributed.load(distributed.rank_path(ckpt, proc.rank), proc))
    end = min(args.steps, args.stop_after or args.steps)
    log = distributed.writer(args.out / "tensorboard", proc)
    if proc.main:
        print(
            f"{args.model}: {proc.world} process(es) on {proc.device.type}, {sp}, batch {args.batch} per process "
            f"(global {args.batch * proc.world}), {args.size}x{args.size}; steps {start + 1}..{end} of {args.steps}"
            + (" (resumed)" if args.resume else ""),
            flush=True,
        )
    sums, n, keys = None, 0, None
    last = time.perf_counter()
    for i in range(start, end):
        torch.manual_seed(args.seed * 1_000_003 + i * proc.world + proc.rank)  # dropout masks: (seed, step, rank)
        logs = job.step(i)
        keys = keys or list(logs)
        values = torch.stack([logs[k].float() for k in keys])
        sums, n = (values if sums is None else sums + values), n + 1
        for sched in job.schedules.values():
            sched.step()
        done = i + 1
        if done % args.log_every == 0 or done == end:
            means = distributed.mean_across(sums / n, proc).tolist()  # the one host-device sync per log
            now = time.perf_counter()
            rate = n * args.batch * proc.world / (now - last)
            if proc.main:
                lr = next(iter(job.optimizers.values())).param_groups[0]["lr"]
                print(
                    f"step {done}: "
                    + " ".join(f"{k} {v:.4g}" for k, v in zip(keys, means))
                    + f" | {rate:.3g} img/s | lr {lr:.3g}",
                    flush=True,
                )
                for k, v in zip(keys, means):
                    log.add_scalar(f"loss/{k}", v, done)
                log.add_scalar("speed/images_per_second", rate, done)
                log.add_scalar("lr", lr, done)
            sums, n, last = None, 0, time.perf_counter()
        if done % args.save_every == 0 or done == end:
            distributed.sync_buffers(job.nets.values(), proc)
            distributed.save(checkpoint_state(job, done, args), ckpt, proc)
            if job.local_state():
                distributed.save_local(job.local_state(), ckpt, proc)
            if proc.main:
                log.add_images("preview", job.preview(), done)
                log.flush()
            last = time.perf_counter()
    if args.dump_replicas:
        torch.save(
            {k: {n_: t.cpu() for n_, t in v.state_dict().items()} for k, v in job.nets.items()},
            args.out / f"replica{proc.rank}.pt",
        )
    if proc.main:
        log.close()
        (args.out / "run.json").write_text(
            json.dumps(
                {"step": end, "processes": proc.world, "speed": str(sp), "command": " ".join(sys.argv)}, indent=1
            )
            + "\n"
        )
        print(f"done: step {end}; checkpoint {ckpt}; TensorBoard log {args.out / 'tensorboard'}", flush=True)
    distributed.barrier(proc)
    distributed.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
