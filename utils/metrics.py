"""Metrics for 2-D mixtures as in the mode-collapse literature (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018).

A sample is *high quality* when it lies within ``n_std`` (3) standard deviations of its nearest mode;
a mode is *captured* when at least one high-quality sample is nearest to it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from . import validate


@dataclass(frozen=True)
class ModeReport:
    """The result of :func:`mode_metrics`."""

    modes_captured: int
    n_modes: int
    high_quality: float  # fraction in [0, 1]
    counts: Tensor  # (K,) high-quality samples nearest to each mode

    def __str__(self) -> str:
        return f"{self.modes_captured}/{self.n_modes} modes captured, {100 * self.high_quality:.1f}% high-quality samples"


def nearest_mode(samples: Tensor, modes: Tensor) -> tuple[Tensor, Tensor]:
    """For samples (N, 2) and modes (K, 2): the index (N,) of each sample's nearest mode and the distance (N,) to it."""
    validate.points_2d(samples, "samples")
    validate.points_2d(modes, "modes")
    dist = torch.cdist(samples.float(), modes.float())  # (N, K)
    d, idx = dist.min(dim=1)
    return idx, d


def mode_metrics(samples: Tensor, modes: Tensor, std: float, n_std: float = 3.0) -> ModeReport:
    """Modes captured and fraction of high-quality samples for samples (N, 2) of a mixture with modes (K, 2)."""
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}")
    idx, d = nearest_mode(samples.detach().cpu(), modes.detach().cpu())
    good = d < n_std * std
    counts = torch.bincount(idx[good], minlength=modes.shape[0])
    hq = float(good.float().mean()) if len(good) else 0.0
    return ModeReport(int((counts > 0).sum()), int(modes.shape[0]), hq, counts)
