"""Checks of notebook 04: DCGAN (transposed convolutions, initialisation) and the conditional GAN's input."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ._core import _backward, _expect, _explain_errors, first_hint

# (size, kernel, stride, padding, output_padding) -> output size, worked out by hand with (i - 1) s - 2p + k + op.
_CONVT_CASES = {
    (1, 4, 1, 0, 0): 4,  # the DCGAN's first layer: a 1x1 noise "image" becomes a 4x4 map
    (4, 4, 2, 1, 0): 8,  # kernel 4, stride 2, padding 1 doubles the side
    (7, 4, 2, 1, 0): 14,
    (5, 3, 1, 1, 0): 5,  # stride 1 with "same" padding keeps the side
    (3, 3, 2, 1, 1): 6,  # output_padding adds one row and column at the end
    (2, 5, 3, 0, 0): 8,
}
# The usual wrong formulas of the output size, each with the hint that names the mistake.
_CONVT_MISTAKES: list[tuple[Callable[[int, int, int, int, int], int], str]] = [
    (
        lambda i, k, s, p, op: (i + 2 * p - k) // s + 1,
        "that is the formula of an ordinary convolution, floor((i + 2p - k) / s) + 1; a transposed "
        "convolution runs it backwards",
    ),
    (
        lambda i, k, s, p, op: i * s - 2 * p + k + op,
        "the input has i - 1 gaps of s pixels between its first and last position, so (i - 1) s, not i s",
    ),
    (lambda i, k, s, p, op: (i - 1) * s - p + k + op, "padding crops p pixels on *each* side: subtract 2p"),
    (lambda i, k, s, p, op: (i - 1) * s - 2 * p + k, "output_padding adds op pixels at the end"),
]

_Z_STORED = torch.linspace(-2, 2, 20).reshape(5, 4)
_LABELS_STORED = torch.tensor([4, 0, 3, 3, 1])
_STORED_COND_INPUT = (
    429.4210510253906  # (conditional_input(_Z_STORED, _LABELS_STORED, 5) * arange(45).reshape(5, 9)).sum()
)


@_explain_errors
def check_conv_transpose_output_size(fn: Callable[[int, int, int, int, int], int]) -> None:
    """Check ``fn(size, kernel, stride, padding, output_padding) -> int``, the output side of ``nn.ConvTranspose2d``."""
    for (i, k, s, p, op), expected in _CONVT_CASES.items():
        got = fn(i, k, s, p, op)
        if not isinstance(got, int) or isinstance(got, bool):
            raise AssertionError(f"return an int (a number of pixels), got {type(got).__name__} {got!r}")
        if got != expected:
            hint = next(
                (h for wrong, h in _CONVT_MISTAKES if got == wrong(i, k, s, p, op)),
                "off by one? The formula is (i - 1) s - 2p + k + output_padding",
            )
            raise AssertionError(
                f"size {i}, kernel {k}, stride {s}, padding {p}, output_padding {op}: "
                f"expected {expected}, got {got}. {hint}"
            )
    # The stored reference: PyTorch's own layers (output_padding must be smaller than the stride).
    n = 0
    for i in (1, 3, 6):
        for k in (1, 2, 3, 4, 5):
            for s in (1, 2, 3):
                for p in range(0, (k + 1) // 2):
                    for op in range(s):
                        layer = torch.nn.ConvTranspose2d(1, 1, k, s, p, op)
                        actual = layer(torch.zeros(1, 1, i, i)).shape[-1]
                        got = fn(i, k, s, p, op)
                        if got != actual:
                            raise AssertionError(
                                f"nn.ConvTranspose2d(1, 1, kernel_size={k}, stride={s}, padding={p}, "
                                f"output_padding={op}) maps size {i} to {actual}, you give {got}"
                            )
                        n += 1
    print(
        f"✓ conv_transpose_output_size passes {len(_CONVT_CASES) + n} checks "
        f"({len(_CONVT_CASES)} worked by hand, {n} against nn.ConvTranspose2d)"
    )


@_explain_errors
def check_dcgan_init(fn: Callable[[torch.nn.Module], None]) -> None:
    """Check ``fn(module)``, applied with ``model.apply(fn)``: weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02),
    biases 0."""
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.ConvTranspose2d(64, 32, 4), nn.BatchNorm2d(4096), nn.Conv2d(32, 64, 4), nn.Linear(256, 128)
    )
    model.apply(fn)
    layers = {"ConvTranspose2d": model[0], "Conv2d": model[2], "Linear": model[3]}
    for name, layer in layers.items():
        w = layer.weight.detach()
        mean, std = float(w.mean()), float(w.std())
        if abs(std - 0.02) > 0.001 or abs(mean) > 0.001:
            mistakes = [
                (
                    lambda v: abs(v - 0.0004) < 0.0001,
                    "0.02 is the standard deviation, not the variance: nn.init.normal_(w, 0.0, 0.02)",
                ),
                (
                    lambda v: abs(v - 0.02 / math.sqrt(3)) < 0.001,
                    "uniform(-0.02, 0.02) has standard deviation 0.0115: draw from a normal distribution",
                ),
                (
                    lambda v: v > 0.025 or v < 0.015,
                    f"did your function reach {name} layers? Test isinstance(module, nn.{name}) (a transposed "
                    "convolution is not an nn.Conv2d)",
                ),
            ]
            raise AssertionError(
                f"{name} weights should be ~ N(0, 0.02), got mean {mean:.4f} and std {std:.4f}. "
                f"{first_hint(std, mistakes)}"
            )
        if layer.bias is not None and bool(layer.bias.detach().abs().max() > 0):
            raise AssertionError(
                f"{name} biases should be set to 0 (nn.init.zeros_), got values up to "
                f"{float(layer.bias.detach().abs().max()):.3g}"
            )
    bn = model[1]
    mean, std = float(bn.weight.detach().mean()), float(bn.weight.detach().std())
    if abs(mean - 1) > 0.002 or abs(std - 0.02) > 0.002:
        raise AssertionError(
            f"BatchNorm2d scales (weight) should be ~ N(1, 0.02), got mean {mean:.4f} and std {std:.4f}"
            + (": a scale near 0 switches the layer off; centre them on 1" if abs(mean) < 0.1 else "")
        )
    if bool(bn.bias.detach().abs().max() > 0):
        raise AssertionError("BatchNorm2d shifts (bias) should be 0")
    print(
        "✓ dcgan_init passes 9 checks (transposed conv, conv and linear weights and biases, batch norm scale and shift)"
    )


def _conditional_shape_hint(shape: tuple) -> str:
    """Name the usual mistake behind a wrong shape of conditional_input(z (4, 3), labels, 3)."""
    if shape == (4, 4):
        return "the labels went in as one number per row: encode them one-hot, one column per class"
    if shape[0] != 4:
        return "concatenate along dim=1 (the features), not dim=0 (the batch)"
    return "one column per class: n_classes columns, whatever the labels in the batch"


@_explain_errors
def check_conditional_input(fn: Callable[[Tensor, Tensor, int], Tensor]) -> None:
    """Check ``fn(z (N, z_dim), labels (N,), n_classes) -> (N, z_dim + n_classes)``: z, then the one-hot labels."""
    z = torch.linspace(-1, 1, 12).reshape(4, 3)
    labels = torch.tensor([2, 0, 1, 2])
    out = fn(z, labels, 3)
    if not isinstance(out, Tensor):
        raise AssertionError(f"return a torch.Tensor, got {type(out).__name__}")
    if out.shape != (4, 6):
        raise AssertionError(
            f"z (4, 3) with labels of 3 classes must give shape (4, 6), got {tuple(out.shape)}. "
            f"{_conditional_shape_hint(tuple(out.shape))}"
        )
    if not torch.is_floating_point(out):
        raise AssertionError(f"return a floating-point tensor (the generator's input), got {out.dtype}")
    if not torch.allclose(out[:, :3], z):
        raise AssertionError("the first z_dim columns must be z itself, unchanged: put z first, then the one-hot code")
    expected = torch.tensor([[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=out.dtype)
    if not torch.equal(out[:, 3:], expected):
        raise AssertionError(
            f"the last columns must be the one-hot labels {expected.tolist()}, got {out[:, 3:].tolist()}"
            ": row i has a 1 in column labels[i] and 0 elsewhere (torch.nn.functional.one_hot)"
        )
    wide = fn(torch.zeros(2, 5), torch.tensor([0, 1]), 10)
    if tuple(wide.shape) != (2, 15):
        raise AssertionError(
            f"with n_classes=10 and z_dim=5 the input has 15 columns, got {tuple(wide.shape)}: "
            "use n_classes, not the largest label in the batch"
        )
    stored = fn(_Z_STORED, _LABELS_STORED, 5)
    weights = torch.arange(45, dtype=torch.float32).reshape(5, 9)
    _expect(float((stored * weights).sum()), _STORED_COND_INPUT, "the stored reference case")
    zg = z.clone().requires_grad_(True)
    _backward(fn(zg, labels, 3).sum(), "conditional_input")
    if zg.grad is None or not torch.allclose(zg.grad, torch.ones_like(z)):
        raise AssertionError("the gradient must flow back to z unchanged: build the result with torch.cat")
    print("✓ conditional_input passes 6 checks (shape, z first, one-hot labels, n_classes, stored reference, gradient)")


__all__ = ["check_conditional_input", "check_conv_transpose_output_size", "check_dcgan_init"]
