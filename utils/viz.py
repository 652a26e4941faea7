"""Plots: image grids, 2-D samples over the true modes with D's decision surface, loss curves."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from torch import Tensor, nn

from . import validate


def image_grid(images: Tensor, nrow: int = 8, padding: int = 2) -> Tensor:
    """Tile images (N, C, H, W) in [-1, 1] into one image (C, H', W') in [0, 1], ``nrow`` images per row."""
    from torchvision.utils import make_grid

    validate.images(images, "images")
    return make_grid(
        images.detach().cpu().float(), nrow=nrow, padding=padding, normalize=True, value_range=(-1, 1), pad_value=1.0
    )


def show_images(images: Tensor, nrow: int = 8, title: str | None = None, ax: Axes | None = None) -> Axes:
    """Show images (N, C, H, W) in [-1, 1] as one grid."""
    grid = image_grid(images, nrow)
    if ax is None:
        ncols = min(nrow, images.shape[0])
        _, ax = plt.subplots(figsize=(max(2.5, 0.9 * ncols), max(2.5, 0.9 * -(-images.shape[0] // nrow))))
    ax.imshow(grid.permute(1, 2, 0).numpy(), cmap="gray" if images.shape[1] == 1 else None, vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


@torch.no_grad()
def decision_surface(
    discriminator: nn.Module, extent: tuple[float, float, float, float], resolution: int = 80
) -> Tensor:
    """D(x) = sigmoid(logit) on a ``resolution`` x ``resolution`` grid over ``extent``; rows index y, columns x."""
    xmin, xmax, ymin, ymax = extent
    dev = next(discriminator.parameters()).device
    xs = torch.linspace(xmin, xmax, resolution)
    ys = torch.linspace(ymin, ymax, resolution)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([gx.flatten(), gy.flatten()], dim=1).to(dev)
    was_training = discriminator.training
    discriminator.eval()
    probs = torch.sigmoid(discriminator(points)).reshape(resolution, resolution).cpu()
    discriminator.train(was_training)
    return probs


def plot_2d(
    samples: Tensor,
    modes: Tensor | None = None,
    surface: Tensor | None = None,
    extent: tuple[float, float, float, float] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    colorbar: bool = False,
    labels: Tensor | None = None,
) -> Axes:
    """Scatter samples (N, 2) over the true modes (K, 2), on top of D's decision surface (R, R) when given.

    ``labels`` (N,) colours each sample by its label (e.g. the condition it was generated for).
    """
    validate.points_2d(samples, "samples")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4))
    if surface is not None:
        if extent is None:
            raise ValueError("extent is needed to place the decision surface")
        im = ax.imshow(surface.numpy(), extent=extent, origin="lower", cmap="RdBu", vmin=0, vmax=1, alpha=0.55)
        if colorbar:
            plt.colorbar(im, ax=ax, fraction=0.046, label="D(x): probability 'real'")
    s = samples.detach().cpu()
    if labels is None:
        ax.scatter(s[:, 0], s[:, 1], s=3, c="tab:orange", alpha=0.6, label="generated")
    else:
        if labels.shape != (len(s),):
            raise ValueError(f"labels must have shape ({len(s)},), one per sample, got {tuple(labels.shape)}")
        points = ax.scatter(s[:, 0], s[:, 1], s=3, c=labels.cpu(), cmap="tab10", vmin=0, vmax=9, alpha=0.8)
        ax.legend(*points.legend_elements(), title="label", fontsize=7, loc="best")  # the spot with fewest points
    if modes is not None:
        ax.scatter(modes[:, 0], modes[:, 1], s=40, marker="x", c="black", label="true modes")
    if extent is not None:
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def plot_snapshots(
    frames: Sequence[dict], modes: Tensor, extent: tuple[float, float, float, float], ncols: int = 5
) -> plt.Figure:
    """A row (or rows) of snapshots recorded by ``utils.train.Snapshots2D``: samples over D's surface at each step."""
    if not frames:
        raise ValueError("no snapshots to plot: pass the frames a Snapshots2D callback recorded")
    nrows = -(-len(frames) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.7 * nrows), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, frame in zip(axes.flat, frames):
        ax.set_axis_on()
        plot_2d(frame["samples"], modes, frame["surface"], extent, ax=ax, title=f"step {frame['step']}")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
    fig.tight_layout()
    return fig


def plot_losses(history, ax: Axes | None = None, title: str = "losses") -> Axes:
    """Plot the discriminator and generator losses of a ``utils.train.History`` against the step."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    ax.plot(history.step, history.d_loss, label="discriminator")
    ax.plot(history.step, history.g_loss, label="generator")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    return ax
