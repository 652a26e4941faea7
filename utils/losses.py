"""Losses: the GAN objectives, written on discriminator logits for numerical stability.

With D(x) = sigmoid(l(x)):  -log D(x) = softplus(-l)   and   -log(1 - D(x)) = softplus(l).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from . import validate


# >>> saved from notebooks/02_gan_from_scratch.ipynb (edit it there, then run `make save`) >>>
def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))] from logits (N, 1) of real and fake samples; a scalar."""
    validate.logits(real_logits, "real_logits")
    validate.logits(fake_logits, "fake_logits")
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss_saturating(fake_logits: Tensor) -> Tensor:
    """The minimax generator loss E[log(1 - D(G(z)))] from fake logits (N, 1); a scalar that G minimises."""
    validate.logits(fake_logits, "fake_logits")
    return -F.softplus(fake_logits).mean()


def generator_loss_nonsaturating(fake_logits: Tensor) -> Tensor:
    """The non-saturating generator loss -E[log D(G(z))] from fake logits (N, 1); a scalar that G minimises."""
    validate.logits(fake_logits, "fake_logits")
    return F.softplus(-fake_logits).mean()


# <<< end of the code saved from notebooks/02_gan_from_scratch.ipynb <<<


# >>> saved from notebooks/01_conditional_generative_models.ipynb (edit it there, then run `make save`) >>>
def gaussian_nll(x: Tensor, mean: Tensor, log_std: Tensor) -> Tensor:
    """Mean negative log-likelihood of x (N, D) under independent Gaussians N(mean, exp(log_std)^2), per point."""
    for t, name in ((x, "x"), (mean, "mean"), (log_std, "log_std")):
        validate.tensor(t, name)
    if not (x.shape == mean.shape == log_std.shape):
        raise ValueError(
            f"x, mean and log_std must have one shape, got {tuple(x.shape)}, "
            f"{tuple(mean.shape)}, {tuple(log_std.shape)}"
        )
    z = (x - mean) / log_std.exp()
    return (0.5 * z**2 + log_std + 0.5 * math.log(2 * math.pi)).sum(dim=1).mean()


# <<< end of the code saved from notebooks/01_conditional_generative_models.ipynb <<<


GENERATOR_LOSSES = {"saturating": generator_loss_saturating, "nonsaturating": generator_loss_nonsaturating}


# --------------------------------------------------------------------------- Wasserstein GAN with gradient penalty
def wasserstein_critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """E[f(G(z))] - E[f(x)] from critic scores (N, 1) of real and fake samples; a scalar the critic f minimises."""
    validate.logits(real_scores, "real_scores")
    validate.logits(fake_scores, "fake_scores")
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: Tensor) -> Tensor:
    """-E[f(G(z))] from critic scores (N, 1) of generated samples; a scalar that G minimises."""
    validate.logits(fake_scores, "fake_scores")
    return -fake_scores.mean()


# >>> saved from notebooks/03_mode_collapse.ipynb (edit it there, then run `make save`) >>>
def gradient_penalty(critic: torch.nn.Module, real: Tensor, fake: Tensor) -> Tensor:
    """WGAN-GP's E[(||grad f(x_hat)|| - 1)^2] at random points x_hat between real and fake samples (N, ...); a scalar.

    x_hat = eps * real + (1 - eps) * fake with one eps ~ U(0, 1) per sample (Gulrajani et al., 2017). The result
    is differentiable with respect to the critic's parameters (``create_graph=True``); multiply it by lambda (10).
    """
    validate.tensor(real, "real")
    validate.tensor(fake, "fake")
    if real.shape != fake.shape or real.dim() < 2:
        raise ValueError(f"real and fake must have one shape (N, ...), got {tuple(real.shape)} and {tuple(fake.shape)}")
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()


# <<< end of the code saved from notebooks/03_mode_collapse.ipynb <<<
