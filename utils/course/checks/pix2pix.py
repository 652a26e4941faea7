"""Checks of notebook 05: pix2pix (the U-Net skip, PatchGAN's receptive field, the generator loss, D's input)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ._core import _backward, _concat_hint, _expect, _explain_errors, _run, _value, first_hint, near

_SKIP_DEC = torch.linspace(-1, 1, 48).reshape(2, 3, 2, 4)
_SKIP_ENC = torch.linspace(2, -2, 32).reshape(2, 2, 2, 4)
_STORED_SKIP = -160.30201721191406  # (skip(_SKIP_DEC, _SKIP_ENC) * arange(80).reshape(2, 5, 2, 4)).sum()
_RF_LAYERS = [(3, 1), (4, 2), (5, 3), (2, 2), (3, 1), (1, 1), (7, 2)]
_STORED_RF = 116  # receptive_field(_RF_LAYERS)
_P2P_LOGITS = torch.linspace(-3, 2, 18).reshape(2, 1, 3, 3)
_P2P_FAKE = torch.linspace(-1, 1, 96).reshape(2, 3, 4, 4)
_P2P_TARGET = torch.linspace(0.9, -0.7, 96).reshape(2, 3, 4, 4)
_STORED_P2P_G = (92.4331283569336, 1.2160168886184692, 0.9121710658073425)  # pix2pix_generator_loss(..., 100.0)
_PAIR_A = torch.linspace(-1, 1, 32).reshape(2, 1, 4, 4)
_PAIR_B = torch.linspace(1, -0.5, 96).reshape(2, 3, 4, 4)
_STORED_PAIR = 833.3555297851562  # (conditional_pair(_PAIR_A, _PAIR_B) * arange(128).reshape(2, 4, 4, 4)).sum()
_CAT_HINT = (
    "Join the two along dim=1 (the channels) with torch.cat; only N, H and W must agree, the channel counts may differ."
)

# (kernel, stride) of each layer, input first -> receptive field, worked out by hand with r = (r - 1) s + k backwards.
_RF_CASES = [
    ([], 1, "no layers: an output pixel is an input pixel"),
    ([(3, 1)], 3, "one 3x3 convolution"),
    ([(3, 1)] * 3, 7, "three 3x3 convolutions of stride 1 (VGG's argument: they see 7 x 7)"),
    ([(2, 2), (2, 2)], 4, "two 2x2 stride-2 poolings"),
    ([(7, 2), (3, 2)], 11, "a 7x7 stride-2 then a 3x3 stride-2 convolution"),
    ([(3, 2), (7, 2)], 15, "the same two layers in the other order"),
    ([(4, 2), (4, 1), (4, 1)], 16, "the PatchGAN with n_layers=1 (the paper's 16 x 16 PatchGAN)"),
    ([(4, 2), (4, 2), (4, 1), (4, 1)], 34, "the PatchGAN with n_layers=2 (34 x 34)"),
    ([(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)], 70, "the default PatchGAN (70 x 70)"),
]


def _rf_forward_backwards(layers: list) -> int:
    """The backward formula applied from the input side: a usual slip."""
    r = 1
    for k, s in layers:
        r = (r - 1) * s + k
    return r


def _rf_from(start: int, layers: list) -> int:
    """The right walk from the output back to the input, started at r = ``start``."""
    r = start
    for k, s in reversed(layers):
        r = (r - 1) * s + k
    return r


# The usual wrong receptive fields (a function of the layers; None where it does not apply), each with its hint.
_RF_MISTAKES: list[tuple[Callable[[list], int | None], str]] = [
    (
        lambda layers: _rf_forward_backwards(layers) if layers else None,
        "you walked from the input to the output: start at ONE OUTPUT pixel and go back to the input, "
        "last layer first (reversed(layers))",
    ),
    (
        lambda layers: 1 + sum(k - 1 for k, _ in layers),
        "the strides are missing: a pixel seen after a stride-2 layer stands for 2 input pixels, so each "
        "layer's (k - 1) is multiplied by the strides of the layers before it",
    ),
    (lambda layers: _rf_from(0, layers), "start from r = 1 (one output pixel), not 0"),
]


@_explain_errors
def check_unet_skip(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(decoder (N, C_dec, H, W), encoder (N, C_enc, H, W)) -> (N, C_dec + C_enc, H, W)``: the U-Net's skip
    connection, the decoder's features followed by the encoder's features of the same size, along the channels."""
    dec, enc = torch.full((2, 3, 4, 4), 1.0), torch.full((2, 2, 4, 4), 2.0)
    out = _run(fn, "skip", dec, enc, hint=_CAT_HINT)
    if not isinstance(out, Tensor):
        raise AssertionError(f"return a torch.Tensor, got {type(out).__name__}")
    if tuple(out.shape) != (2, 5, 4, 4):
        raise AssertionError(
            f"decoder (2, 3, 4, 4) and encoder (2, 2, 4, 4) must give (2, 5, 4, 4): the channels add up, "
            f"got {tuple(out.shape)}. {_concat_hint(tuple(out.shape), (2, 3, 4, 4), (2, 2, 4, 4))}"
        )
    if not (torch.equal(out[:, :3], dec) and torch.equal(out[:, 3:], enc)):
        swapped = torch.equal(out[:, :2], enc) and torch.equal(out[:, 2:], dec)
        raise AssertionError(
            "the channels must be the decoder's (all 1 here) then the encoder's (all 2), unchanged"
            + (
                ": you put the encoder first; keep the order decoder, encoder (the next layer's weights expect it)"
                if swapped
                else ": use torch.cat([decoder, encoder], dim=1)"
            )
        )
    try:
        bad = fn(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 8, 8))
    except Exception:  # noqa: BLE001 -- torch.cat's RuntimeError or the learner's own ValueError both do
        pass
    else:
        raise AssertionError(
            f"a decoder map (4 x 4) and an encoder map (8 x 8) of different sizes must raise an error, "
            f"got a tensor of shape {tuple(getattr(bad, 'shape', ()))}: the skip joins features of the "
            "same pixels, so never resize or crop one of them to make it fit"
        )
    weights = torch.arange(80.0).reshape(2, 5, 2, 4)
    _expect(float((_run(fn, "skip", _SKIP_DEC, _SKIP_ENC) * weights).sum()), _STORED_SKIP, "the stored reference case")
    d, e = _SKIP_DEC.clone().requires_grad_(True), _SKIP_ENC.clone().requires_grad_(True)
    _backward(_run(fn, "skip", d, e).sum(), "skip")
    for name, t in (("decoder", d), ("encoder", e)):
        if t.grad is None or not torch.equal(t.grad, torch.ones_like(t)):
            raise AssertionError(
                f"the gradient must flow back to the {name} features unchanged (that is what makes a "
                "skip useful for training): join the tensors with torch.cat, without detach()"
            )
    print(
        "✓ unet_skip passes 5 checks (shape, order decoder then encoder, mismatched sizes refused, "
        "stored reference, gradients to both)"
    )


@_explain_errors
def check_patchgan_receptive_field(fn: Callable[[list], int]) -> None:
    """Check ``fn(layers) -> int``: the receptive field in pixels of convolutions given as (kernel, stride) pairs,
    in the order they are applied (input first)."""
    for layers, expected, case in _RF_CASES:
        got = _run(fn, "receptive_field", list(layers))
        if not isinstance(got, int) or isinstance(got, bool):
            raise AssertionError(f"return an int (a number of pixels), got {type(got).__name__} {got!r}")
        if got != expected:
            hint = next(
                (h for wrong, h in _RF_MISTAKES if got == wrong(layers)),
                "each step is r = (r - 1) * stride + kernel: (r - 1) gaps between r pixels, stretched by the stride, "
                "plus the kernel",
            )
            raise AssertionError(
                f"{case}: layers {layers} should see {expected} x {expected} pixels, got {got}. {hint}"
            )
    got = _run(fn, "receptive_field", list(_RF_LAYERS))
    if got != _STORED_RF:
        raise AssertionError(f"the stored reference case {_RF_LAYERS}: expected {_STORED_RF}, got {got}")
    print(
        f"✓ patchgan_receptive_field passes {len(_RF_CASES) + 1} checks "
        f"({len(_RF_CASES)} worked by hand, the 70 x 70 PatchGAN among them, and a stored reference)"
    )


_LAMBDA_ON_GAN = "lambda multiplies the L1 term, not the GAN term"
_P2P_OUTPUTS = {"total": 0, "gan_term": 1, "l1_term": 2}


def _p2p_calls() -> list[tuple[str, Tensor, Tensor | None, float, list[tuple]]]:
    """The known cases of the generator loss, one call each (fresh tensors; fake None means fake == target = 0):
    (name of the call, logits, fake, lambda, [(output, expected, case, hint, typical mistakes), ...])."""
    zeros, half = torch.zeros(2, 1, 3, 3), torch.full((2, 3, 4, 4), 0.5)
    return [
        (
            "D unsure, G perfect",
            zeros,
            None,
            100.0,
            [
                (
                    "gan_term",
                    math.log(2),
                    "gan_term where D(a, G(a)) = 1/2 on every patch (logits 0)",
                    "-log(1/2) = log 2: the mean over the patches of softplus(-logits). Did you sum over the patches?",
                    [],
                ),
                ("l1_term", 0.0, "l1_term when fake == target", "", []),
                (
                    "total",
                    math.log(2),
                    "total when fake == target and the logits are 0",
                    "",
                    [(near(100 * math.log(2), 1e-3), _LAMBDA_ON_GAN)],
                ),
            ],
        ),
        (
            "fake = target + 0.5 everywhere",
            zeros,
            half,
            100.0,
            [
                (
                    "l1_term",
                    0.5,
                    "l1_term when every pixel is off by 0.5",
                    "",
                    [
                        (
                            near(0.25),
                            "0.25 is the squared error (L2): pix2pix uses the absolute error, mean |fake - target|",
                        ),
                        (near(50, 1e-3), "return l1_term without lambda; lambda weighs it only in the total"),
                        (lambda v: v > 1, "average over every pixel and channel, not a sum"),
                    ],
                ),
                (
                    "total",
                    math.log(2) + 50,
                    "total = gan_term + 100 * l1_term with l1_term 0.5",
                    "",
                    [
                        (near(100 * math.log(2) + 0.5, 1e-3), _LAMBDA_ON_GAN),
                        (near(math.log(2) + 0.5, 1e-3), "did you forget lambda?"),
                    ],
                ),
            ],
        ),
        (
            "lambda_l1 = 10",
            zeros,
            half,
            10.0,
            [
                (
                    "total",
                    math.log(2) + 5,
                    "lambda_l1 = 10, l1_term 0.5",
                    "use the lambda_l1 argument, not a fixed 100",
                    [],
                )
            ],
        ),
        (
            "D rejects the fakes",
            torch.full((2, 1, 3, 3), -8.0),
            None,
            100.0,
            [
                (
                    "gan_term",
                    math.log1p(math.exp(8)),
                    "gan_term where D confidently rejects every fake patch (logits -8)",
                    "a value near 0 means the saturating loss log(1 - D) or the label 'fake': G minimises "
                    "-log D(a, G(a)) = softplus(-logits)",
                    [],
                )
            ],
        ),
    ]


@_explain_errors
def check_pix2pix_generator_loss(fn: Callable[[Tensor, Tensor, Tensor, float], tuple[Tensor, Tensor, Tensor]]) -> None:
    """Check ``fn(d_fake_logits (N, 1, H', W'), fake (N, C, H, W), target (N, C, H, W), lambda_l1) ->
    (total, gan_term, l1_term)``: gan_term = -mean log D(a, G(a)) over all patches (non-saturating, from logits),
    l1_term = mean |fake - target|, total = gan_term + lambda_l1 * l1_term."""

    def run(logits: Tensor, fake: Tensor, target: Tensor, lam: float, case: str) -> tuple[float, ...]:
        out = _run(fn, "pix2pix_generator_loss", logits, fake, target, lam)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise AssertionError(f"{case}: return a tuple (total, gan_term, l1_term), got {type(out).__name__}")
        return tuple(_value(t, name) for t, name in zip(out, _P2P_OUTPUTS))

    target = torch.zeros(2, 3, 4, 4)
    for name, logits, fake, lam, expectations in _p2p_calls():
        outputs = run(logits, target.clone() if fake is None else fake, target, lam, name)
        for output, expected, case, hint, mistakes in expectations:
            got = outputs[_P2P_OUTPUTS[output]]
            _expect(got, expected, case, first_hint(got, mistakes, hint))
    got = run(_P2P_LOGITS, _P2P_FAKE, _P2P_TARGET, 100.0, "the stored reference case")
    for i, name in ((2, "l1_term"), (1, "gan_term"), (0, "total")):
        value, expected = got[i], _STORED_P2P_G[i]
        _expect(
            value,
            expected,
            f"the stored reference case ({name})",
            "take the absolute value before averaging: positive and negative errors must not cancel"
            if name == "l1_term"
            else "",
        )
    logits = _P2P_LOGITS.clone().requires_grad_(True)
    fake = _P2P_FAKE.clone().requires_grad_(True)
    out = _run(fn, "pix2pix_generator_loss", logits, fake, _P2P_TARGET, 100.0)
    _backward(out[0], "pix2pix_generator_loss")
    if fake.grad is None or not torch.allclose(
        fake.grad, 100 * torch.sign(_P2P_FAKE - _P2P_TARGET) / fake.numel(), atol=1e-6
    ):
        raise AssertionError(
            "the gradient of the total with respect to fake should be lambda * sign(fake - target) / "
            "(number of values): build the L1 term from fake with torch operations"
        )
    if logits.grad is None or not torch.allclose(logits.grad, -torch.sigmoid(-_P2P_LOGITS) / logits.numel(), atol=1e-6):
        raise AssertionError(
            "the gradient of the total with respect to D's logits should be -(1 - D) / (number of "
            "patches): the GAN term must come from the logits through torch operations"
        )
    print(
        "✓ pix2pix_generator_loss passes 9 checks (known cases, lambda, D rejecting fakes, stored reference, gradients)"
    )


@_explain_errors
def check_conditional_pair(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(a (N, C_a, H, W), b (N, C_b, H, W)) -> (N, C_a + C_b, H, W)``: what pix2pix's D sees, the input a
    paired with an output b (real or generated), stacked along the channels, input first."""
    a, b = torch.full((2, 1, 4, 4), -1.0), torch.full((2, 3, 4, 4), 0.5)
    out = _run(fn, "conditional_pair", a, b, hint=_CAT_HINT)
    if not isinstance(out, Tensor):
        raise AssertionError(f"return a torch.Tensor, got {type(out).__name__}")
    if tuple(out.shape) != (2, 4, 4, 4):
        hint = (
            "D sees the output alone (or the input added to it): that is an unconditional D, which cannot tell "
            "whether the output belongs to its input. Give it both, as channels"
            if tuple(out.shape) == (2, 3, 4, 4)
            else _concat_hint(tuple(out.shape), (2, 1, 4, 4), (2, 3, 4, 4))
        )
        raise AssertionError(
            f"a (2, 1, 4, 4) paired with b (2, 3, 4, 4) must give (2, 4, 4, 4), got {tuple(out.shape)}. {hint}"
        )
    if not (torch.equal(out[:, :1], a) and torch.equal(out[:, 1:], b)):
        raise AssertionError(
            "the channels must be a's (the input, all -1 here) then b's (the output, all 0.5), unchanged"
            + (": you put the output first" if torch.equal(out[:, :3], b) else "")
        )
    weights = torch.arange(128.0).reshape(2, 4, 4, 4)
    _expect(
        float((_run(fn, "conditional_pair", _PAIR_A, _PAIR_B) * weights).sum()),
        _STORED_PAIR,
        "the stored reference case",
    )
    fake = _PAIR_B.clone().requires_grad_(True)
    out = _run(fn, "conditional_pair", _PAIR_A, fake)
    if out.requires_grad:
        _backward(out.sum(), "conditional_pair")
    if fake.grad is None or not torch.equal(fake.grad, torch.ones_like(fake)):
        raise AssertionError(
            "the gradient must flow back to b: when b is G's output, this is the path by which the "
            "GAN term teaches G. Do not detach b here (the D step detaches the fake itself)"
        )
    print("✓ conditional_pair passes 4 checks (shape, input then output, stored reference, gradient to the output)")


__all__ = [
    "check_conditional_pair",
    "check_patchgan_receptive_field",
    "check_pix2pix_generator_loss",
    "check_unet_skip",
]
