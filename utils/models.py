"""Models: the small networks the notebooks build from scratch, kept here for reuse by later notebooks."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from . import validate


def mlp(in_dim: int, out_dim: int, hidden: int = 128, depth: int = 3) -> nn.Sequential:
    """A multilayer perceptron (N, in_dim) -> (N, out_dim): ``depth`` hidden layers of ``hidden`` units, LeakyReLU(0.2)."""
    layers: list[nn.Module] = []
    width = in_dim
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


def mlp_generator(z_dim: int = 2, out_dim: int = 2, hidden: int = 128, depth: int = 3) -> nn.Sequential:
    """Generator G: noise z (N, z_dim) -> sample x (N, out_dim)."""
    return mlp(z_dim, out_dim, hidden, depth)


def mlp_discriminator(in_dim: int = 2, hidden: int = 128, depth: int = 3) -> nn.Sequential:
    """Discriminator D: sample x (N, in_dim) -> one logit (N, 1); D(x) = sigmoid(logit) is P(x is real)."""
    return mlp(in_dim, 1, hidden, depth)


class ConditionalGaussian(nn.Module):
    """A conditional generator for 2-D data: condition c (N,) of ``n_classes`` labels -> a Gaussian over x.

    ``forward(c)`` returns ``(mean (N, 2), log_std (N, 2))``; ``sample(c)`` draws x = mean + std * z.
    """

    def __init__(self, n_classes: int, dim: int = 2, hidden: int = 64) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.net = mlp(n_classes, 2 * dim, hidden, depth=2)

    def forward(self, c: Tensor) -> tuple[Tensor, Tensor]:
        validate.tensor(c, "c")
        if c.dim() != 1 or c.dtype != torch.int64:
            raise ValueError(f"c must be an int64 tensor of class labels with shape (N,), got {c.dtype} {tuple(c.shape)}")
        out = self.net(nn.functional.one_hot(c, self.n_classes).float())
        mean, log_std = out.chunk(2, dim=1)
        return mean, log_std

    def sample(self, c: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Draw one x (N, 2) for each condition in c (N,)."""
        mean, log_std = self(c)
        z = torch.randn(mean.shape, generator=generator, device=mean.device)
        return mean + log_std.exp() * z
