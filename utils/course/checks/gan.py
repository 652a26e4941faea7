"""Checks of notebooks 01 (Gaussian likelihood, reparameterisation) and 02 (the GAN losses, mode coverage)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ._core import Case, _backward, _explain_errors, run_cases

# Fixed inputs for the stored reference values (no randomness, so they are the same on every machine).
_REAL = torch.linspace(-3, 3, 7).reshape(7, 1)
_FAKE = torch.linspace(-2, 4, 7).reshape(7, 1)
_STORED_D_LOSS = 2.75870943069458  # discriminator_loss(_REAL, _FAKE)
_STORED_G_LOSS_NS = 0.6628947854042053  # generator_loss_nonsaturating(_FAKE)
_UNDERFLOW = "log(sigmoid(l)) gives -inf once sigmoid underflows to 0"

# Fixed inputs for the Gaussian exercises of notebook 01.
_X = torch.linspace(-1, 1, 8).reshape(4, 2)
_MEAN = torch.linspace(0.5, -0.5, 8).reshape(4, 2)
_LOG_STD = torch.linspace(-1, 0.5, 8).reshape(4, 2)
_STORED_NLL = 4.517394065856934  # gaussian_nll(_X, _MEAN, _LOG_STD)


def _d_loss_cases() -> list[Case]:
    """The known cases of the discriminator loss (fresh tensors at every call)."""
    zeros, big = torch.zeros(4, 1), torch.full((4, 1), 8.0)
    huge = torch.full((4, 1), 200.0)  # float32: sigmoid(-200) is exactly 0 and sigmoid(200) exactly 1
    return [
        Case((zeros, zeros), 2 * math.log(2), "D(x) = 1/2 everywhere (logits 0)", "Each term is -log(1/2) = log 2."),
        Case(
            (big, -big),
            2 * math.log1p(math.exp(-8)),
            "a confident, correct D (real logits +8, fake logits -8)",
            "The loss should be near 0 when D is right: did you swap the real and fake terms?",
        ),
        Case(
            (-big, big),
            2 * math.log1p(math.exp(8)),
            "a confident, wrong D (real logits -8, fake logits +8)",
            "Use softplus (or log-sigmoid) on logits, not sigmoid then log, to stay finite.",
        ),
        Case(
            (_REAL, _FAKE),
            _STORED_D_LOSS,
            "the stored reference case",
            "Average each term over its batch, then add the two terms.",
        ),
        Case(
            (-huge, huge),
            400.0,
            "a badly wrong D (real logits -200, fake logits +200; the loss is 200 + 200)",
            f"{_UNDERFLOW}: use softplus on the logits "
            "(-log sigmoid(l) = softplus(-l), -log(1 - sigmoid(l)) = softplus(l)) or F.logsigmoid.",
        ),
    ]


def _g_loss_cases() -> list[Case]:
    """The known cases of the non-saturating generator loss."""
    return [
        Case((torch.zeros(4, 1),), math.log(2), "D(G(z)) = 1/2 (logits 0)", "-log(1/2) = log 2."),
        Case(
            (_FAKE,),
            _STORED_G_LOSS_NS,
            "the stored reference case",
            "The non-saturating loss is -mean(log D(G(z))) = mean(softplus(-logits)).",
        ),
        Case(
            (torch.full((4, 1), -200.0),),
            200.0,
            "D rejects the fakes completely (logits -200; -log sigmoid(-200) = 200)",
            f"{_UNDERFLOW} (float32, l = -200): use softplus(-logits) or -F.logsigmoid(logits).",
        ),
    ]


def _nll_cases() -> list[Case]:
    """The known cases of the Gaussian negative log-likelihood."""
    zeros = torch.zeros(3, 2)
    return [
        Case(
            (zeros, zeros, zeros),
            math.log(2 * math.pi),
            "x = mean, std = 1, two dimensions",
            "At the mean, each dimension contributes log(std) + log(2 pi) / 2.",
        ),
        Case(
            (torch.full((3, 2), 2.0), zeros, zeros),
            4 + math.log(2 * math.pi),
            "x two std from the mean in both dimensions",
            "The squared term is (x - mean)^2 / (2 std^2) per dimension.",
        ),
        Case(
            (zeros, zeros, torch.full((3, 2), math.log(0.1))),
            2 * math.log(0.1) + math.log(2 * math.pi),
            "std = 0.1 at the mean",
            "Did you forget the log(std) term? It is what stops the model from making std huge.",
        ),
        Case(
            (_X, _MEAN, _LOG_STD),
            _STORED_NLL,
            "the stored reference case",
            "Sum over the dimensions of a point, then average over the points; std = exp(log_std).",
        ),
    ]


@_explain_errors
def check_discriminator_loss(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(real_logits (N, 1), fake_logits (N, 1)) -> scalar`` against -E[log D(x)] - E[log(1 - D(G(z)))]."""
    run_cases(fn, "discriminator_loss", _d_loss_cases())
    real = _REAL.clone().requires_grad_(True)
    _backward(fn(real, _FAKE), "discriminator_loss")
    if real.grad is None or not torch.allclose(real.grad, -torch.sigmoid(-_REAL) / len(_REAL), atol=1e-5):
        raise AssertionError(
            "the gradient with respect to the real logits is not -(1 - D(x)) / N: "
            "compute the loss from the logits with torch operations so autograd can follow it."
        )
    print("✓ discriminator_loss passes 6 checks (known cases, stored reference, very large logits, gradient)")


@_explain_errors
def check_generator_loss_nonsaturating(fn: Callable[[Tensor], Tensor]) -> None:
    """Check ``fn(fake_logits (N, 1)) -> scalar`` against the non-saturating loss -E[log D(G(z))]."""
    run_cases(fn, "generator_loss", _g_loss_cases())
    # The point of the exercise: where D confidently rejects the fakes, the gradient must not vanish.
    fake = torch.full((4, 1), -8.0, requires_grad=True)
    _backward(fn(fake), "generator_loss")
    grad = fake.grad
    if grad is None:
        raise AssertionError("no gradient reached the fake logits: build the loss from them with torch operations")
    expected = -(1 - torch.sigmoid(torch.tensor(-8.0))) / 4
    if not torch.allclose(grad, torch.full_like(grad, float(expected)), atol=1e-5):
        raise AssertionError(
            f"where D rejects the fakes (logit -8) the gradient per sample should be about {float(expected):.4f}, "
            f"got {grad.flatten().tolist()}. A gradient near 0 means the saturating loss log(1 - D(G(z))): "
            "minimise -log D(G(z)) instead."
        )
    print(
        "✓ generator_loss_nonsaturating passes 4 checks (known case, stored reference, very large logits, gradient "
        "where D rejects fakes)"
    )


@_explain_errors
def check_mode_coverage(fn: Callable[[Tensor, Tensor, float], tuple[int, float]]) -> None:
    """Check ``fn(samples (N, 2), modes (K, 2), std) -> (modes_captured, high_quality_fraction)``."""
    from ...data import ring

    mix = ring()
    modes, std = mix.modes, mix.std

    def run(samples: Tensor, case: str) -> tuple[int, float]:
        out = fn(samples, modes, std)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise AssertionError(f"{case}: return a tuple (modes_captured, high_quality_fraction), got {out!r}")
        return int(out[0]), float(out[1])

    direction = torch.tensor([[0.6, 0.8]])
    inside = modes[:1] + 2.9 * std * direction
    outside = modes[1:2] + 3.1 * std * direction
    # (samples, case, expected (captured, high quality), message before the result, hint after it)
    cases = [
        (modes[:3].clone(), "samples exactly on 3 modes", (3, 1.0), "samples exactly on 3 of the 8 modes", ""),
        (
            torch.cat([inside, outside]),
            "one sample at 2.9 std, one at 3.1 std",
            (1, 0.5),
            "one sample 2.9 std from a mode and one 3.1 std from another",
            ". High quality means a Euclidean distance to the nearest mode below 3 * std.",
        ),
        (
            torch.zeros(10, 2),  # the centre of the ring: nearest to some mode, but far from all of them
            "samples at the centre of the ring",
            (0, 0.0),
            "samples far from every mode must capture nothing",
            ". A mode counts only when a *high-quality* sample is nearest to it.",
        ),
    ]
    for samples, case, expected, message, hint in cases:
        captured, hq = run(samples, case)
        if (captured, round(hq, 4) if expected[0] else hq) != expected:
            raise AssertionError(f"{message}: expected {expected}, got ({captured}, {hq}){hint}")
    x, _ = mix.sample(20000, torch.Generator().manual_seed(0))
    captured, hq = run(x, "20,000 samples of the true ring")
    expected_hq = 1 - math.exp(-4.5)  # P(|z| < 3) for a 2-D standard Gaussian
    if captured != 8 or abs(hq - expected_hq) > 0.005:
        raise AssertionError(
            f"samples of the true distribution: expected 8 modes and about {expected_hq:.3f} high quality "
            f"(1 - exp(-9/2) in 2-D), got ({captured}, {hq:.3f})"
        )
    print("✓ mode_coverage passes 4 checks (exact modes, the 3-std boundary, far samples, the true distribution)")


@_explain_errors
def check_gaussian_nll(fn: Callable[[Tensor, Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(x (N, D), mean (N, D), log_std (N, D)) -> scalar``: the mean over points of the summed NLL."""
    run_cases(fn, "gaussian_nll", _nll_cases())
    print("✓ gaussian_nll passes 4 checks (known cases, stored reference)")


@_explain_errors
def check_reparameterised_sample(fn: Callable[[Tensor, Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(mean (N, D), log_std (N, D), z (N, D)) -> x (N, D)``, the sample x = mean + exp(log_std) * z."""
    mean = _MEAN.clone().requires_grad_(True)
    log_std = _LOG_STD.clone().requires_grad_(True)
    z = torch.linspace(-2, 2, 8).reshape(4, 2)
    x = fn(mean, log_std, z)
    if not isinstance(x, Tensor) or x.shape != mean.shape:
        raise AssertionError(f"return one sample per row, a tensor of shape {tuple(mean.shape)}")
    expected = _MEAN + _LOG_STD.exp() * z
    if not torch.allclose(x.detach(), expected, atol=1e-5):
        hint = (
            "you used log_std itself as the standard deviation"
            if torch.allclose(x.detach(), _MEAN + _LOG_STD * z, atol=1e-5)
            else "the standard deviation is exp(log_std)"
        )
        raise AssertionError(f"x = mean + std * z does not match: {hint}")
    _backward(x.sum(), "sample")
    if mean.grad is None or log_std.grad is None or not torch.allclose(log_std.grad, _LOG_STD.exp() * z, atol=1e-5):
        raise AssertionError(
            "gradients must flow to mean and log_std (that is the point of the reparameterisation): "
            "compute x from them with torch operations, and take z as given"
        )
    print("✓ reparameterised sample passes 2 checks (values, gradients to mean and log_std)")


__all__ = [
    "check_discriminator_loss",
    "check_gaussian_nll",
    "check_generator_loss_nonsaturating",
    "check_mode_coverage",
    "check_reparameterised_sample",
]
