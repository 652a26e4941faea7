"""Automatic checks for the exercises in ``lessons/``.

Each ``check_*`` calls the learner's function on known cases (values worked out by hand) and on stored
reference values (computed once from the course's reference implementation), raises ``AssertionError``
with a hint when something is off, and prints a line saying what passed.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

# Fixed inputs for the stored reference values (no randomness, so they are the same on every machine).
_REAL = torch.linspace(-3, 3, 7).reshape(7, 1)
_FAKE = torch.linspace(-2, 4, 7).reshape(7, 1)
_STORED_D_LOSS = 2.75870943069458          # discriminator_loss(_REAL, _FAKE)
_STORED_G_LOSS_NS = 0.6628947854042053     # generator_loss_nonsaturating(_FAKE)


def _scalar(value: object, what: str) -> float:
    if not isinstance(value, Tensor):
        raise AssertionError(f"{what} must return a torch.Tensor, got {type(value).__name__}")
    if value.numel() != 1:
        raise AssertionError(f"{what} must return a scalar (mean over the batch), got shape {tuple(value.shape)}")
    return float(value)


def _expect(got: float, expected: float, case: str, hint: str = "", tol: float = 1e-4) -> None:
    if not math.isclose(got, expected, rel_tol=tol, abs_tol=tol):
        raise AssertionError(f"{case}: expected {expected:.6g}, got {got:.6g}. {hint}".strip())


def _backward(loss: Tensor, what: str) -> None:
    try:
        loss.backward()
    except RuntimeError as err:
        raise AssertionError(f"{what}: autograd cannot differentiate your result ({err}). Build it from the input "
                             "logits with torch operations only (no .item(), float() or NumPy).") from None


def check_discriminator_loss(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(real_logits (N, 1), fake_logits (N, 1)) -> scalar`` against -E[log D(x)] - E[log(1 - D(G(z)))]."""
    zeros = torch.zeros(4, 1)
    _expect(_scalar(fn(zeros, zeros), "discriminator_loss"), 2 * math.log(2),
            "D(x) = 1/2 everywhere (logits 0)", "Each term is -log(1/2) = log 2.")
    big = torch.full((4, 1), 8.0)
    _expect(_scalar(fn(big, -big), "discriminator_loss"), 2 * math.log1p(math.exp(-8)),
            "a confident, correct D (real logits +8, fake logits -8)",
            "The loss should be near 0 when D is right: did you swap the real and fake terms?")
    _expect(_scalar(fn(-big, big), "discriminator_loss"), 2 * math.log1p(math.exp(8)),
            "a confident, wrong D (real logits -8, fake logits +8)",
            "Use softplus (or log-sigmoid) on logits, not sigmoid then log, to stay finite.")
    _expect(_scalar(fn(_REAL, _FAKE), "discriminator_loss"), _STORED_D_LOSS,
            "the stored reference case", "Average each term over its batch, then add the two terms.")
    real = _REAL.clone().requires_grad_(True)
    _backward(fn(real, _FAKE), "discriminator_loss")
    if real.grad is None or not torch.allclose(real.grad, -torch.sigmoid(-_REAL) / len(_REAL), atol=1e-5):
        raise AssertionError("the gradient with respect to the real logits is not -(1 - D(x)) / N: "
                             "compute the loss from the logits with torch operations so autograd can follow it.")
    print("✓ discriminator_loss passes 5 checks (known cases, stored reference, gradient)")


def check_generator_loss_nonsaturating(fn: Callable[[Tensor], Tensor]) -> None:
    """Check ``fn(fake_logits (N, 1)) -> scalar`` against the non-saturating loss -E[log D(G(z))]."""
    _expect(_scalar(fn(torch.zeros(4, 1)), "generator_loss"), math.log(2),
            "D(G(z)) = 1/2 (logits 0)", "-log(1/2) = log 2.")
    _expect(_scalar(fn(_FAKE), "generator_loss"), _STORED_G_LOSS_NS, "the stored reference case",
            "The non-saturating loss is -mean(log D(G(z))) = mean(softplus(-logits)).")
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
            "minimise -log D(G(z)) instead.")
    print("✓ generator_loss_nonsaturating passes 3 checks (known case, stored reference, gradient where D rejects fakes)")


def check_mode_coverage(fn: Callable[[Tensor, Tensor, float], tuple[int, float]]) -> None:
    """Check ``fn(samples (N, 2), modes (K, 2), std) -> (modes_captured, high_quality_fraction)``."""
    from .data import ring

    mix = ring()
    modes, std = mix.modes, mix.std

    def run(samples: Tensor, case: str) -> tuple[int, float]:
        out = fn(samples, modes, std)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise AssertionError(f"{case}: return a tuple (modes_captured, high_quality_fraction), got {out!r}")
        return int(out[0]), float(out[1])

    captured, hq = run(modes[:3].clone(), "samples exactly on 3 modes")
    if (captured, round(hq, 4)) != (3, 1.0):
        raise AssertionError(f"samples exactly on 3 of the 8 modes: expected (3, 1.0), got ({captured}, {hq})")
    direction = torch.tensor([[0.6, 0.8]])
    inside = modes[:1] + 2.9 * std * direction
    outside = modes[1:2] + 3.1 * std * direction
    captured, hq = run(torch.cat([inside, outside]), "one sample at 2.9 std, one at 3.1 std")
    if (captured, round(hq, 4)) != (1, 0.5):
        raise AssertionError(
            f"one sample 2.9 std from a mode and one 3.1 std from another: expected (1, 0.5), got ({captured}, {hq}). "
            "High quality means a Euclidean distance to the nearest mode below 3 * std.")
    far = torch.zeros(10, 2)  # the centre of the ring: nearest to some mode, but far from all of them
    captured, hq = run(far, "samples at the centre of the ring")
    if (captured, hq) != (0, 0.0):
        raise AssertionError(f"samples far from every mode must capture nothing: expected (0, 0.0), got ({captured}, {hq}). "
                             "A mode counts only when a *high-quality* sample is nearest to it.")
    x, _ = mix.sample(20000, torch.Generator().manual_seed(0))
    captured, hq = run(x, "20,000 samples of the true ring")
    expected_hq = 1 - math.exp(-4.5)  # P(|z| < 3) for a 2-D standard Gaussian
    if captured != 8 or abs(hq - expected_hq) > 0.005:
        raise AssertionError(f"samples of the true distribution: expected 8 modes and about {expected_hq:.3f} high quality "
                             f"(1 - exp(-9/2) in 2-D), got ({captured}, {hq:.3f})")
    print("✓ mode_coverage passes 4 checks (exact modes, the 3-std boundary, far samples, the true distribution)")


# Fixed inputs for the Gaussian exercises of notebook 01.
_X = torch.linspace(-1, 1, 8).reshape(4, 2)
_MEAN = torch.linspace(0.5, -0.5, 8).reshape(4, 2)
_LOG_STD = torch.linspace(-1, 0.5, 8).reshape(4, 2)
_STORED_NLL = 4.517394065856934  # gaussian_nll(_X, _MEAN, _LOG_STD)


def check_gaussian_nll(fn: Callable[[Tensor, Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(x (N, D), mean (N, D), log_std (N, D)) -> scalar``: the mean over points of the summed NLL."""
    zeros = torch.zeros(3, 2)
    _expect(_scalar(fn(zeros, zeros, zeros), "gaussian_nll"), math.log(2 * math.pi),
            "x = mean, std = 1, two dimensions", "At the mean, each dimension contributes log(std) + log(2 pi) / 2.")
    _expect(_scalar(fn(torch.full((3, 2), 2.0), zeros, zeros), "gaussian_nll"), 4 + math.log(2 * math.pi),
            "x two std from the mean in both dimensions", "The squared term is (x - mean)^2 / (2 std^2) per dimension.")
    _expect(_scalar(fn(zeros, zeros, torch.full((3, 2), math.log(0.1))), "gaussian_nll"),
            2 * math.log(0.1) + math.log(2 * math.pi), "std = 0.1 at the mean",
            "Did you forget the log(std) term? It is what stops the model from making std huge.")
    _expect(_scalar(fn(_X, _MEAN, _LOG_STD), "gaussian_nll"), _STORED_NLL, "the stored reference case",
            "Sum over the dimensions of a point, then average over the points; std = exp(log_std).")
    print("✓ gaussian_nll passes 4 checks (known cases, stored reference)")


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
        hint = ("you used log_std itself as the standard deviation" if torch.allclose(x.detach(), _MEAN + _LOG_STD * z, atol=1e-5)
                else "the standard deviation is exp(log_std)")
        raise AssertionError(f"x = mean + std * z does not match: {hint}")
    _backward(x.sum(), "sample")
    if mean.grad is None or log_std.grad is None or not torch.allclose(log_std.grad, _LOG_STD.exp() * z, atol=1e-5):
        raise AssertionError("gradients must flow to mean and log_std (that is the point of the reparameterisation): "
                             "compute x from them with torch operations, and take z as given")
    print("✓ reparameterised sample passes 2 checks (values, gradients to mean and log_std)")
