"""Checks of notebook 03: mode collapse (packing, minibatch std, gradient penalty, the mode histogram's KL)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ._core import Case, _backward, _expect, _explain_errors, _value, run_cases

_PACK_X = torch.linspace(-1, 1, 16).reshape(8, 2)
_STORED_PACK = 45.33333206176758  # (pack(_PACK_X, 4) * arange(16).reshape(2, 8)).sum()
_MBSTD_H = torch.linspace(-2, 3, 12).reshape(4, 3) ** 2
_STORED_MBSTD = 2.5743815898895264  # minibatch_std(_MBSTD_H)[0, -1]
_STORED_RING_KL = 8.139448942116705e-05  # mode_histogram_kl of 20,000 ring samples (torch.Generator seed 0)


@_explain_errors
def check_pack(fn: Callable[[Tensor, int], Tensor]) -> None:
    """Check ``fn(x (N, d), m) -> (N / m, m * d)``: PacGAN's packing of m consecutive samples into one row."""
    x = torch.arange(12.0).reshape(6, 2)
    out = fn(x, 2)
    if not isinstance(out, Tensor) or tuple(out.shape) != (3, 4):
        raise AssertionError(
            f"pack(x (6, 2), m=2) must have shape (3, 4), got {getattr(out, 'shape', type(out).__name__)}"
        )
    if out.tolist() != [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]:
        raise AssertionError(
            f"pack(arange(12).reshape(6, 2), 2) should be [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] "
            f"(samples 0 and 1 side by side, then 2 and 3, ...), got {out.tolist()}. Each row must hold "
            "whole samples, one after the other: x.reshape(N // m, m * d) keeps them in order; a "
            "transpose interleaves coordinates of different samples."
        )
    out3 = fn(x, 3)
    if tuple(out3.shape) != (2, 6) or out3.tolist() != [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]:
        raise AssertionError(f"pack(x, 3) should be [[0, ..., 5], [6, ..., 11]], got {out3.tolist()}")
    if not torch.equal(fn(x, 1), x):
        raise AssertionError("pack(x, 1) must return x unchanged (a pack of one sample is the sample)")
    _expect(float((fn(_PACK_X, 4) * torch.arange(16.0).reshape(2, 8)).sum()), _STORED_PACK, "the stored reference case")
    try:
        fn(torch.zeros(5, 2), 2)
    except ValueError:
        pass
    else:
        raise AssertionError(
            "pack(x (5, 2), m=2) must raise ValueError: 5 samples do not split into packs of 2 "
            "(silently dropping or mixing samples would change what D sees)"
        )
    print("✓ pack passes 5 checks (order of samples, m = 3, m = 1, stored reference, bad batch size)")


@_explain_errors
def check_minibatch_std(fn: Callable[[Tensor], Tensor]) -> None:
    """Check ``fn(h (N, F)) -> (N, F + 1)``: h with one more column, the batch's standard deviation averaged over F."""
    h = torch.tensor([[0.0, 1.0, 5.0], [2.0, 1.0, 1.0]])
    out = fn(h)
    if not isinstance(out, Tensor) or tuple(out.shape) != (2, 4):
        raise AssertionError(
            f"for h of shape (2, 3) the result must have shape (2, 4): h plus ONE column, got "
            f"{getattr(out, 'shape', type(out).__name__)}. Average the per-feature deviations into one number."
        )
    if not torch.equal(out[:, :3], h):
        raise AssertionError(
            "the first F columns must be h itself, unchanged; append the new feature as the last column"
        )
    col = out[:, 3]
    if not torch.allclose(col, col[0].expand_as(col)):
        raise AssertionError(
            f"the new column must hold the same value in every row (one statistic of the batch), got {col.tolist()}"
        )
    _expect(
        float(col[0].detach()),
        1.0,
        "h = [[0, 1, 5], [2, 1, 1]]: feature std 1, 0, 2 over the batch, mean 1",
        "Take the standard deviation over the batch (dim 0), with the population formula (unbiased=False), "
        "then average over the features.",
    )
    _expect(
        float(fn(torch.ones(5, 3))[0, 3].detach()),
        0.0,
        "five identical rows (a fully collapsed batch)",
        "Identical samples have no spread.",
        tol=1e-3,
    )
    _expect(float(fn(_MBSTD_H)[0, -1].detach()), _STORED_MBSTD, "the stored reference case")
    hg = _MBSTD_H.clone().requires_grad_(True)
    _backward(fn(hg)[:, -1].sum(), "minibatch_std")
    if hg.grad is None or hg.grad.abs().sum() == 0:
        raise AssertionError("no gradient reaches h through the new feature: D must be able to learn from the spread")
    print(
        "✓ minibatch_std passes 6 checks (shape, h kept, one value per batch, known case, collapsed batch, "
        "stored reference and gradient)"
    )


@_explain_errors
def check_gradient_penalty(fn: Callable[[torch.nn.Module, Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(critic, real (N, 2), fake (N, 2)) -> scalar``: WGAN-GP's E[(||grad f(x_hat)|| - 1)^2]."""
    critic = torch.nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))
        critic.bias.fill_(0.5)
    real, fake = torch.randn(16, 2, generator=torch.Generator().manual_seed(0)), torch.zeros(16, 2)
    gp = fn(critic, real, fake)
    _expect(
        _value(gp, "gradient_penalty"),
        16.0,
        "a linear critic f(x) = 3 x_1 + 4 x_2: gradient norm 5 everywhere",
        "The penalty is the mean over samples of (||grad|| - 1)^2 = (5 - 1)^2 (no lambda inside, not the norm "
        "squared, not summed over the batch).",
    )
    _backward(gp, "gradient_penalty")
    if critic.weight.grad is None or not torch.allclose(critic.weight.grad, torch.tensor([[4.8, 6.4]]), atol=1e-4):
        raise AssertionError(
            "the penalty must be differentiable with respect to the critic's weights (expected gradient "
            f"[4.8, 6.4], got {critic.weight.grad}): call torch.autograd.grad(..., create_graph=True)"
        )
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8]]))
    _expect(
        _value(fn(critic, real, fake), "gradient_penalty"),
        0.0,
        "a critic with gradient norm exactly 1",
        "A 1-Lipschitz slope costs nothing.",
    )
    # f(x) = |x|^2 / 2 has gradient x. Between real (1, 1) and fake (-1, -1), x_hat = u (1, 1) with u uniform in
    # [-1, 1], so the penalty is E[(sqrt(2) |u| - 1)^2] = 5/3 - sqrt(2). At the real or fake points alone it
    # would be (sqrt(2) - 1)^2 = 0.17; with one eps for the whole batch, a different number at every call.
    bowl = lambda x: 0.5 * x.square().sum(dim=1, keepdim=True)  # noqa: E731
    ones = torch.ones(20000, 2)
    for seed in range(3):
        torch.manual_seed(seed)
        _expect(
            _value(fn(bowl, ones, -ones), "gradient_penalty"),
            5 / 3 - math.sqrt(2),
            f"f(x) = |x|^2 / 2 between real (1, 1) and fake (-1, -1), 20,000 samples, try {seed + 1} of 3",
            "Evaluate the gradient at x_hat = eps * real + (1 - eps) * fake with a fresh eps ~ U(0, 1) for each "
            "sample (shape (N, 1)), take each sample's gradient norm, then the mean of (norm - 1)^2.",
            tol=0.012,
        )
    print("✓ gradient_penalty passes 6 checks (linear critic, gradient, a 1-Lipschitz critic, interpolation x 3)")


def _as_float(value: object, what: str) -> float:
    """The learner's KL as a float, or an AssertionError asking for one."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AssertionError(f"{what}: return a float, got {type(value).__name__}") from None


@_explain_errors
def check_mode_histogram_kl(fn: Callable[[Tensor, Tensor, float], float]) -> None:
    """Check ``fn(samples (N, 2), modes (K, 2), std) -> float``: KL(p || uniform) in nats of the high-quality
    mode histogram."""
    from ...data import ring

    mix = ring()
    modes, std = mix.modes, mix.std
    x, _ = mix.sample(20000, torch.Generator().manual_seed(0))
    cases = [
        Case(
            (modes.clone(),),
            0.0,
            "one sample exactly on each of the 8 modes",
            "A uniform histogram is 0 away from uniform.",
            what="one sample on each mode",
        ),
        Case(
            (modes[:1].repeat(10, 1),),
            math.log(8),
            "10 samples, all on mode 0",
            "All mass on one of K modes gives log K = 2.079 nats. Got 3? That is log base 2: use the natural log.",
            what="all on one mode",
        ),
        Case(
            (torch.cat([modes[[0, 0, 0, 0, 1, 1, 2, 3]], torch.zeros(3, 2)]),),
            0.5 * math.log(4) + 0.25 * math.log(2),
            "counts (4, 2, 1, 1, 0, 0, 0, 0) over the 8 modes, plus 3 samples at the centre of the ring",
            "KL(p || u) = sum over modes with p_k > 0 of p_k log(p_k K). An infinite or huge value means the "
            "arguments are swapped (KL(u || p) is infinite when a mode is missing); samples that are not high "
            "quality (here the 3 at the centre) must not count.",
            what="counts 4, 2, 1, 1, 0, 0, 0, 0 plus 3 far samples",
        ),
        Case(
            (torch.zeros(5, 2),),
            math.log(8),
            "5 samples, none of them high quality",
            "With no high-quality sample the histogram is empty: return log K, as bad as total collapse.",
            what="no high-quality samples",
        ),
        Case(
            (x,),
            _STORED_RING_KL,
            "20,000 samples of the true ring (stored reference)",
            tol=1e-6,
            what="20,000 samples of the true ring",
        ),
    ]
    run_cases(lambda samples: fn(samples, modes, std), "mode_histogram_kl", cases, value=_as_float)
    print(
        "✓ mode_histogram_kl passes 5 checks (uniform, one mode, lopsided with far samples, none high quality, "
        "the true ring)"
    )


__all__ = ["check_gradient_penalty", "check_minibatch_std", "check_mode_histogram_kl", "check_pack"]
