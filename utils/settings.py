"""Course-wide settings: quick mode, seeding, device choice and honest timing."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import torch
from tqdm.auto import tqdm

T = TypeVar("T")

#: Environment variable that switches the whole course into quick mode (tests and CI set it to 1).
QUICK_ENV = "COURSE_QUICK"


def quick_mode() -> bool:
    """True when ``COURSE_QUICK`` is set to 1/true/yes: small images and few steps, for tests and CI."""
    return os.environ.get(QUICK_ENV, "0").strip().lower() in {"1", "true", "yes", "on"}


def pick(learner: T, quick: T) -> T:
    """Return ``quick`` in quick mode and ``learner`` otherwise, e.g. ``STEPS = pick(learner=4000, quick=300)``."""
    return quick if quick_mode() else learner


def device() -> torch.device:
    """The device to train on: ``COURSE_DEVICE`` if set, else CUDA when available, else CPU."""
    name = os.environ.get("COURSE_DEVICE")
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int = 0, threads: int | None = None) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (and fix the CPU thread count) so a CPU run repeats exactly.

    Returns a ``torch.Generator`` seeded with ``seed`` for code that wants its own stream.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if threads is None:
        threads = int(os.environ.get("COURSE_THREADS", min(4, os.cpu_count() or 1)))
    torch.set_num_threads(threads)
    return torch.Generator().manual_seed(seed)


def where(dev: torch.device) -> str:
    """What runs the work on ``dev``: the GPU's name, or ``CPU, 2 threads`` (the threads PyTorch uses now)."""
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    n = torch.get_num_threads()
    return f"CPU, {n} thread{'s' if n != 1 else ''}"


def describe() -> str:
    """One line saying how this run is set up: mode, device, threads and library versions."""
    dev = device()
    mode = "quick mode (CI)" if quick_mode() else "learner mode"
    return f"{mode} | device: {dev} ({where(dev)}) | torch {torch.__version__}"


@contextmanager
def timer(label: str, dev: torch.device | None = None) -> Iterator[dict]:
    """Time a block honestly (synchronising CUDA) and print ``label: 12.3 s on cpu``; yields a dict with ``seconds``."""
    dev = dev or device()
    out: dict = {}
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    start = time.perf_counter()
    try:
        yield out
    finally:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        out["seconds"] = time.perf_counter() - start
        print(f"{label}: {out['seconds']:.1f} s on {dev.type} ({where(dev)})")


def progress(iterable: Iterable[T], **kwargs) -> Iterable[T]:
    """A ``tqdm.auto`` progress bar that honours ``TQDM_DISABLE=1`` (tqdm's notebook bar ignores that variable)."""
    kwargs.setdefault("disable", os.environ.get("TQDM_DISABLE", "0").strip().lower() in {"1", "true", "yes"})
    return tqdm(iterable, **kwargs)


def machine() -> dict[str, object]:
    """Where a measurement ran, for the results files: torch threads, OS, CPU cores, Python and torch versions."""
    import platform

    return {
        "threads": torch.get_num_threads(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}",
        "torch": torch.__version__,
    }
