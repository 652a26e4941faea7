"""Input checks shared by the course's functions: clear errors that name the expected shape or range."""

from __future__ import annotations

import torch
from torch import Tensor


def tensor(x: object, name: str) -> Tensor:
    """Raise TypeError unless ``x`` is a torch.Tensor."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    return x


def points_2d(x: object, name: str = "points") -> Tensor:
    """Check a batch of 2-D points: a float tensor of shape (N, 2)."""
    x = tensor(x, name)
    if x.dim() != 2 or x.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2), got {tuple(x.shape)}")
    return x


def images(x: object, name: str = "images", check_range: bool = True) -> Tensor:
    """Check an image batch: shape (N, C, H, W) with C in {1, 3} and values in [-1, 1]."""
    x = tensor(x, name)
    if x.dim() != 4:
        hint = " (a single image? add a batch dimension with x.unsqueeze(0))" if x.dim() == 3 else ""
        raise ValueError(f"{name} must have shape (N, C, H, W), got {tuple(x.shape)}{hint}")
    if x.shape[1] not in (1, 3):
        raise ValueError(f"{name} must have 1 or 3 channels in dim 1, got shape {tuple(x.shape)}")
    if check_range and x.numel():
        lo, hi = float(x.min()), float(x.max())
        if lo < -1.001 or hi > 1.001:
            raise ValueError(
                f"{name} must lie in [-1, 1] (the course's image range), got values in [{lo:.3g}, {hi:.3g}]; "
                "map [0, 1] images with x * 2 - 1"
            )
    return x


def logits(x: object, name: str) -> Tensor:
    """Check discriminator outputs: a floating-point tensor (raw logits, any shape)."""
    x = tensor(x, name)
    if not torch.is_floating_point(x):
        raise TypeError(f"{name} must be a floating-point tensor of logits, got dtype {x.dtype}")
    return x


def positive_int(n: object, name: str) -> int:
    """Check a positive integer argument."""
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"{name} must be a positive int, got {n!r}")
    return n
