"""Training past one machine, on PyTorch's own engine: ``torchrun`` starts the processes, ``torch.distributed`` joins
them, DistributedDataParallel keeps the replicas' weights identical (it averages the gradients in the backward pass),
``DistributedSampler`` gives each process its share of every epoch, and a checkpoint resumes at the step it saved.

The same script runs alone (``python train.py``: one process, no process group) and under
``torchrun --nproc_per_node=N train.py`` (N processes on this machine) or across machines (see the appendix
notebook). Every process runs the same code; ``Process.main`` (rank 0) alone writes checkpoints and TensorBoard logs.
Nothing here reads a value back from the GPU per step: losses are averaged across processes only when logged.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

#: Classes a resume file may hold beyond what ``torch.load(weights_only=True)`` accepts by itself (tensors, dicts,
#: lists, tuples, numbers, strings, None). A checkpoint written by :func:`save`/:func:`save_local` holds state dicts
#: of nets, Adam and LambdaLR, the step, the arguments as strings and ``random.Random`` states (tuples of ints), so
#: nothing more is needed; add a class here (never a function) only if a checkpoint really holds one.
RESUME_SAFE_GLOBALS: list[type] = []


@dataclass(frozen=True)
class Process:
    """This process: its ``rank`` among ``world`` processes, its ``local_rank`` on this machine, its ``device``."""

    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def main(self) -> bool:
        """True on rank 0, the process that writes files and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when there are other processes to agree with."""
        return self.world > 1


def start(device: str | None = None) -> Process:
    """Join the process group that ``torchrun`` describes in the environment (RANK, WORLD_SIZE, LOCAL_RANK,
    MASTER_ADDR, MASTER_PORT), or run alone when started without it. NCCL between GPUs, gloo between CPU processes;
    each process takes the GPU of its local rank. ``device``: "cuda" or "cpu" (default: CUDA when there is one)."""
    want = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if want.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for, but PyTorch sees no CUDA GPU here; use --device cpu")
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return Process(0, 1, 0, torch.device("cuda", 0) if want.type == "cuda" else want)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if want.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(
                f"local rank {local_rank} has no GPU: this machine has {torch.cuda.device_count()}; "
                f"start at most that many processes per node (--nproc_per_node)"
            )
        torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", local_rank)
    else:
        dev = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo", device_id=dev if dev.type == "cuda" else None)
    return Process(rank, world, local_rank, dev)


def stop() -> None:
    """Leave the process group (when there is one)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def wrap(net: nn.Module, proc: Process) -> nn.Module:
    """``net`` under DistributedDataParallel when there are other processes, else ``net`` itself. DDP broadcasts
    rank 0's weights and buffers at the start, then averages the gradients in every backward pass."""
    if not proc.distributed:
        return net
    return DistributedDataParallel(net, device_ids=[proc.local_rank] if proc.device.type == "cuda" else None)


class ShardedBatches:
    """This process's batches of indices into a dataset of ``n`` items: each epoch, ``DistributedSampler`` shuffles
    all ``n`` (seeded by ``seed`` and the epoch) and deals each process an equal share; ``at(step)`` is the batch
    (``batch`` indices) of global step ``step`` (0-based), so a resumed run sees exactly the batches it would have."""

    def __init__(self, n: int, batch: int, proc: Process, seed: int = 0) -> None:
        if n < batch * proc.world:
            raise ValueError(f"{n} items cannot fill a batch of {batch} on each of {proc.world} processes")
        self.sampler = DistributedSampler(
            range(n), num_replicas=proc.world, rank=proc.rank, shuffle=True, seed=seed, drop_last=True
        )
        self.batch = batch
        self.per_epoch = len(self.sampler) // batch
        self._epoch, self._order = -1, torch.empty(0, dtype=torch.long)

    def at(self, step: int) -> Tensor:
        """The indices (batch,) of global step ``step``."""
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            self.sampler.set_epoch(epoch)
            self._epoch, self._order = epoch, torch.tensor(list(iter(self.sampler)), dtype=torch.long)
        return self._order[i * self.batch : (i + 1) * self.batch]


def mean_across(values: Tensor, proc: Process) -> Tensor:
    """The mean of ``values`` over all processes (an all-reduce; the same tensor back when running alone)."""
    if proc.distributed:
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        values /= proc.world
    return values


def sync_buffers(nets: Iterable[nn.Module], proc: Process) -> None:
    """Copy rank 0's buffers (batch norm's running statistics) to every process. DDP does this at the start of each
    forward pass; after the last step each process still holds the statistics of its own last batch."""
    if proc.distributed:
        for net in nets:
            for buf in net.buffers():
                dist.broadcast(buf, src=0)


def barrier(proc: Process) -> None:
    """Wait until every process gets here."""
    if proc.distributed:
        dist.barrier()


def save(state: dict, path: Path, proc: Process) -> None:
    """Rank 0 writes ``state`` to ``path`` (atomically: a half-written checkpoint never replaces a good one);
    every process waits until it is there."""
    if proc.main:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)
    barrier(proc)


def save_local(state: dict, path: Path, proc: Process) -> Path:
    """Each process writes its own ``state`` (what differs between processes, e.g. CycleGAN's image pools) to
    ``path`` with ``.rank<r>`` before the suffix; returns that path."""
    own = rank_path(path, proc.rank)
    own.parent.mkdir(parents=True, exist_ok=True)
    tmp = own.with_name(own.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, own)
    barrier(proc)
    return own


def rank_path(path: Path, rank: int) -> Path:
    """``checkpoint.pt`` -> ``checkpoint.rank<rank>.pt``."""
    return path.with_name(f"{path.stem}.rank{rank}{path.suffix}")


def load(path: Path, proc: Process) -> dict:
    """A checkpoint written by :func:`save` (or this process's from :func:`save_local` when ``path`` is the shared
    name and a per-rank file is wanted: pass ``rank_path(path, proc.rank)``), its tensors on this process's device."""
    if not path.is_file():
        raise FileNotFoundError(
            f"no checkpoint at {path}: train without --resume first, or point --out at the folder of an earlier run"
        )
    try:
        with torch.serialization.safe_globals(RESUME_SAFE_GLOBALS):
            return torch.load(path, map_location=proc.device, weights_only=True)  # never runs pickled code
    except pickle.UnpicklingError as err:
        raise ValueError(
            f"refusing to load {path}: it holds objects other than tensors, numbers, strings and containers, so it "
            f"was not written by this script's checkpointing (loading it could run arbitrary code). "
            f"{str(err).splitlines()[0]}"
        ) from err


def writer(logdir: Path, proc: Process) -> object | None:
    """A TensorBoard ``SummaryWriter`` on rank 0 (``tensorboard --logdir`` shows it), None on the other ranks."""
    if not proc.main:
        return None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(logdir))
