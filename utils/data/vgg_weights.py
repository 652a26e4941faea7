"""torchvision's ImageNet VGG weights for the perceptual loss (notebooks 08-09): found in the torch hub cache, or
downloaded once, and checked against the sha256 prefix in their file name."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import torch

from .download import fetch_checked

#: torch.hub's convention: a checkpoint's file name carries a prefix of its sha256, e.g. vgg16-397923af.pth.
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
CHUNK = 1 << 20


class WeightsUnavailableError(RuntimeError):
    """ImageNet weights could not be found, downloaded or checked; the message says how to get them."""


def imagenet_url(arch: str) -> str:
    """The URL of torchvision's ImageNet weights for ``arch``, e.g. .../vgg16-397923af.pth."""
    if arch not in ("vgg16", "vgg19"):
        raise ValueError(f"unknown arch {arch!r}; choose one of ['vgg16', 'vgg19']")
    from torchvision.models import VGG16_Weights, VGG19_Weights

    return {"vgg16": VGG16_Weights, "vgg19": VGG19_Weights}[arch].IMAGENET1K_V1.url


def weights_path(url: str) -> Path:
    """Where torch hub keeps the file of ``url``: ``torch.hub.get_dir()/checkpoints/<file name>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def hash_prefix(filename: str) -> str | None:
    """The sha256 prefix torch hub encodes in a file name (vgg16-397923af.pth -> "397923af"), or None."""
    match = HASH_REGEX.search(filename)
    return match.group(1) if match and match.group(1) else None


def check_hash(path: Path, prefix: str | None) -> None:
    """Raise WeightsUnavailableError unless the sha256 of ``path`` starts with ``prefix`` (no prefix: no check)."""
    if prefix is None:
        return
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    if not digest.hexdigest().startswith(prefix):
        raise WeightsUnavailableError(
            f"checksum mismatch for {path.name}: its sha256 {digest.hexdigest()} does not start with {prefix} "
            f"(the prefix in its name); the file is corrupt or incomplete"
        )


def _how_to_get(url: str, dest: Path) -> str:
    """Instructions for getting the weights by hand."""
    return (
        f"  To use the real weights: download {url}\n"
        f"  and put it at {dest} (the torch hub cache),\n"
        f"  or pass weights='<path to the downloaded .pth file>'."
    )


def imagenet_weights(arch: str = "vgg16", download: bool = True, progress: bool = True, url: str | None = None) -> Path:
    """The checked file of torchvision's ImageNet weights for ``arch`` in the torch hub cache, downloaded if missing."""
    url = url or imagenet_url(arch)
    dest = weights_path(url)
    prefix = hash_prefix(dest.name)
    if dest.exists():
        try:
            check_hash(dest, prefix)
            return dest
        except WeightsUnavailableError as err:
            if not download:
                raise WeightsUnavailableError(
                    f"the cached {dest} failed its check ({err})\n" + _how_to_get(url, dest)
                ) from err
            print(f"the cached {dest} failed its check ({err}); downloading it again")
    elif not download:
        raise WeightsUnavailableError(f"no file at {dest} and download=False\n" + _how_to_get(url, dest))
    _download_weights(url, dest, prefix, progress)
    return dest


def _download_weights(url: str, dest: Path, prefix: str | None, progress: bool) -> None:
    """Download ``url`` to ``dest`` (a progress bar, the hash prefix checked, no half file left on failure)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    quiet = not progress or os.environ.get("TQDM_DISABLE", "0").strip().lower() in {"1", "true", "yes"}

    def fail(reason: str) -> WeightsUnavailableError:
        return WeightsUnavailableError(
            f"could not download {url}\n  reason: {reason}\n"
            f"  (offline, or the server is unreachable; nothing was cached)\n" + _how_to_get(url, dest)
        )

    def check(part: Path) -> None:
        try:
            check_hash(part, prefix)
        except WeightsUnavailableError as err:
            raise WeightsUnavailableError(f"{err}; downloaded from {url}, nothing was cached") from err

    fetch_checked(url, dest, dest.name, not quiet, check, fail)
