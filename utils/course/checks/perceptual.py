"""Checks of notebook 08: perceptual loss (the Gram matrix, the style, content and total-variation losses)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ._core import (
    Case,
    _backward_from,
    _expect,
    _explain_errors,
    _match,
    _run,
    _tensor_out,
    _value,
    first_hint,
    near,
    run_cases,
)
from .perceptual_reference import load_perceptual_reference


def _gram_mistakes(x: Tensor) -> dict[str, Tensor]:
    """What the usual wrong Gram matrices of features (B, C, H, W) give, each with the hint that names the mistake."""
    b, c, h, w = x.shape
    flat = x.reshape(b, c, h * w)
    raw = flat @ flat.transpose(1, 2)
    mixed = x.reshape(b, h * w, c)
    return {
        "that is G = F Fᵀ / (H W), the 'hw' normalisation: divide by C H W (the channels too)": raw / (h * w),
        "that is F Fᵀ with no normalisation: divide by C H W": raw,
        "that is F Fᵀ / C: divide by C H W (the positions H W too)": raw / c,
        "that is F Fᵀ / (C H W)²: divide by C H W once": raw / (c * h * w) ** 2,
        "that is Fᵀ F / (C H W), the transpose: with F of shape (C, H W), F Fᵀ is (C, C) and compares channels; "
        "Fᵀ F is (H W, H W) and compares positions": flat.transpose(1, 2) @ flat / (c * h * w),
        "that is F Fᵀ with F = x.reshape(B, H*W, C) transposed: reshape gives (C, H*W) only as "
        "x.reshape(B, C, H*W) -- keep the channels first": mixed.transpose(1, 2) @ mixed / (c * h * w),
    }


@_explain_errors
def check_gram_matrix(fn: Callable[[Tensor], Tensor]) -> None:
    """Check ``fn(features (B, C, H, W)) -> (B, C, C)``: G = F F^T / (C H W), F the features flattened to (C, H W)."""
    ref = load_perceptual_reference()
    x = ref["gram"]["features"]
    b, c, h, w = x.shape
    out = _tensor_out(
        _run(fn, "gram_matrix", x.clone(), hint="Flatten to (B, C, H*W) and multiply by the transpose."), "gram_matrix"
    )
    shape = tuple(out.shape)
    if shape != (b, c, c):
        hint = (
            "that is (B, H W, H W): you computed Fᵀ F (positions against positions); the Gram compares "
            "channels: F Fᵀ with F of shape (B, C, H*W), i.e. flat @ flat.transpose(1, 2)"
            if shape == (b, h * w, h * w)
            else "the batch dimension is missing: keep one Gram matrix per image (use torch.bmm or @ on (B, C, H*W))"
            if shape == (c, c)
            else "the images of the batch were mixed into one matrix: flatten each image on its own, (B, C, H*W)"
            if shape in ((b * c, b * c), (1, b * c, b * c))
            else "the result must be (B, C, C)"
        )
        raise AssertionError(
            f"features of shape {(b, c, h, w)} must give Gram matrices of shape {(b, c, c)}, got {shape}: {hint}"
        )
    ones = _tensor_out(_run(fn, "gram_matrix", torch.ones(1, 2, 3, 4)), "gram_matrix").detach()
    if ones.shape != (1, 2, 2) or not torch.allclose(ones, torch.full((1, 2, 2), 0.5), atol=1e-6):
        hint = _match(ones, _gram_mistakes(torch.ones(1, 2, 3, 4))) or "divide F Fᵀ by C H W"
        raise AssertionError(
            f"features all ones (1, 2, 3, 4): every entry is (H W) / (C H W) = 1/C = 0.5, got "
            f"{ones.flatten()[:4].tolist()}: {hint}"
        )
    expected = ref["gram"]["expected"]
    if not torch.allclose(out.detach(), expected, rtol=1e-4, atol=1e-6):
        hint = _match(out.detach(), _gram_mistakes(x)) or "compute G = F Fᵀ / (C H W) with F = x.reshape(B, C, H*W)"
        raise AssertionError(
            f"the stored reference case (features {(b, c, h, w)}, signed values) differs by up to "
            f"{float((out.detach() - expected).abs().max()):.3g}: {hint}"
        )
    xs = ref["gram_square"]["features"]  # C = H W: a transposed Gram has the right shape here, only the values differ
    out = _tensor_out(_run(fn, "gram_matrix", xs.clone()), "gram_matrix").detach()
    if out.shape != ref["gram_square"]["expected"].shape or not torch.allclose(
        out, ref["gram_square"]["expected"], rtol=1e-4, atol=1e-6
    ):
        hint = _match(out, _gram_mistakes(xs)) or "compute G = F Fᵀ / (C H W) with F = x.reshape(B, C, H*W)"
        raise AssertionError(
            f"the stored square case (C = H W = 4, so every mistake has the right shape) is wrong: {hint}"
        )
    leaf = x.clone().requires_grad_(True)
    _backward_from(
        (_run(fn, "gram_matrix", leaf) * torch.linspace(-1, 1, c * c).view(1, c, c)).sum(), "gram_matrix", "features"
    )
    if leaf.grad is None or not leaf.grad.abs().sum() > 0:
        raise AssertionError(
            "no gradient reached the features: build the Gram from them with torch operations, without detach()"
        )
    print(
        "✓ gram_matrix passes 5 checks (shape (B, C, C) on non-square features, all-ones features, stored "
        "reference, a square case, gradient)"
    )


_OTHER_NORM = "use your gram_matrix (normalised by C H W) on the features; the targets are already Gram matrices"


def _style_cases(feats: dict, targets: dict, weights: dict) -> list[Case]:
    """The known cases of the style loss on the stored features, each with its typical mistakes."""
    from ... import perceptual as P

    close = lambda target: near(target, 1e-4, rel=True)  # noqa: E731
    one = {"relu2_2": feats["relu2_2"][:1]}
    same = {"relu2_2": P.gram_matrix(feats["relu2_2"][:1])}
    # One layer, one image: the squared Frobenius distance, a sum over the C x C entries.
    t1 = {"relu2_2": targets["relu2_2"]}
    d = P.gram_matrix(one["relu2_2"]) - t1["relu2_2"]
    c, frobenius = d.shape[-1], float(d.square().sum())
    # Two images, one target: the mean over the batch.
    per_image = (P.gram_matrix(feats["relu2_2"]) - t1["relu2_2"]).square().sum(dim=(1, 2))
    # Several layers with weights.
    dist = {k: float((P.gram_matrix(feats[k]) - targets[k]).square().sum(dim=(1, 2)).mean()) for k in feats}
    weighted = sum(weights[k] * dist[k] for k in feats)
    return [
        Case(
            (one, same, {"relu2_2": 1.0}),
            0.0,
            "features whose Gram equals the target",
            "compare each layer's Gram matrix with its target: G(feats) - target is 0 here (did you compare the "
            "features themselves?)",
            mistakes=[(lambda v: _matches_other_norm(v, one["relu2_2"], same["relu2_2"]), _OTHER_NORM)],
        ),
        Case(
            (one, t1, {"relu2_2": 1.0}),
            frobenius,
            "one layer, one image, weight 1: ||G - A||²_F",
            mistakes=[
                (close(frobenius / c**2), f"that is the mean over the {c}x{c} entries: ||.||²_F sums them"),
                (close(math.sqrt(frobenius)), "that is ||G - A||_F, not squared"),
                (close(float(d.abs().sum())), "that is the sum of |G - A| (L1): square the differences"),
                (lambda v: _matches_other_norm(v, one["relu2_2"], t1["relu2_2"]), _OTHER_NORM),
            ],
        ),
        Case(
            ({"relu2_2": feats["relu2_2"]}, t1, {"relu2_2": 1.0}),
            float(per_image.mean()),
            "two images against one target Gram (1, C, C)",
            mistakes=[
                (close(float(per_image.sum())), "that is the sum over the batch: average over the images"),
                (
                    close(float(per_image[0])),
                    "that is only the first image: compare every image's Gram with the target (it broadcasts)",
                ),
            ],
        ),
        Case(
            (feats, targets, weights),
            weighted,
            "three layers (C = 3, 5, 4) with weights 0.5, 2, 0.25",
            mistakes=[
                (
                    close(sum(dist.values())),
                    "the layer weights are missing: multiply each layer's distance by layer_weights[layer]",
                ),
                (
                    close(sum(weights[k] ** 2 * dist[k] for k in feats)),
                    "the layer weights are squared: multiply by w, not w²",
                ),
                (close(weighted / len(feats)), "that is the average over the layers: add them up"),
                (
                    close(weighted / sum(weights.values())),
                    "that is divided by the sum of the weights: add the weighted terms up, without normalising",
                ),
                (
                    lambda v: any(close(weights[k] * dist[k])(v) for k in feats),
                    "only one layer counted: loop over every layer of target_grams (is the return inside the loop?)",
                ),
                (
                    lambda v: any(close(weighted - weights[k] * dist[k])(v) for k in feats),
                    "only some layers counted: loop over every layer of target_grams",
                ),
            ],
        ),
    ]


@_explain_errors
def check_style_loss(fn: Callable[[dict, dict, dict], Tensor]) -> None:
    """Check ``fn(feats {layer: (B, C, H, W)}, target_grams {layer: (1, C, C)}, layer_weights {layer: w}) -> scalar``:
    sum over the layers of w_l ||G(F_l) - A_l||_F^2, averaged over the batch. It calls your ``gram_matrix``."""
    ref = load_perceptual_reference()
    feats, targets, weights = ref["style"]["feats"], ref["style"]["targets"], ref["style"]["layer_weights"]
    stored = Case((feats, targets, weights), float(ref["style"]["expected"]), "the stored reference case")
    run_cases(fn, "style_loss", [*_style_cases(feats, targets, weights), stored], value=_value, guarded=True)
    leaf = {k: v.clone().requires_grad_(True) for k, v in feats.items()}
    _backward_from(_run(fn, "style_loss", leaf, targets, weights), "style_loss", "features")
    if any(v.grad is None or not v.grad.abs().sum() > 0 for v in leaf.values()):
        raise AssertionError(
            "no gradient reached the features of every layer: build the loss from them with torch "
            "operations, without detach()"
        )
    print(
        "✓ style_loss passes 6 checks (equal Grams, one layer, the batch mean, layer weights, stored reference, "
        "gradients)"
    )


def _matches_other_norm(got: float, feat: Tensor, target: Tensor) -> bool:
    """Whether ``got`` is the one-layer distance with the features' Gram normalised by H W or not at all."""
    from ... import perceptual as P

    return any(
        math.isclose(got, float((P.gram_matrix(feat, n) - target).square().sum()), rel_tol=1e-4) for n in ("hw", "none")
    )


@_explain_errors
def check_content_loss(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(feat (B, C, H, W), target_feat (B or 1, C, H, W)) -> scalar``: the feature reconstruction loss,
    the mean of (feat - target)² over every value (||.||²_2 / (C H W), averaged over the batch)."""
    ref = load_perceptual_reference()
    zeros = torch.zeros(3, 4, 3, 5)  # a batch of 3: the usual mistakes all give different values

    n, per_image = zeros.numel(), zeros[0].numel()
    close = lambda target: near(target, 1e-4, rel=True)  # noqa: E731
    cases = [
        Case((zeros.clone(), zeros.clone()), 0.0, "equal features"),
        Case(
            (zeros + 0.5, zeros.clone()),
            0.25,
            "every feature off by 0.5",
            mistakes=[
                (close(0.25 * n), "that is the sum of the squares: take the mean (divide by C H W, and by the batch)"),
                (
                    close(0.25 * n / per_image),
                    "that is divided by C H W but summed over the batch: average over the images too",
                ),
                (close(0.5), "that is the absolute error (L1): square the differences"),
                (close(0.5 * math.sqrt(n)), "that is the norm ||.||_2, not its square divided by the size"),
                (
                    close(0.25 * n / len(zeros)),
                    "that is divided by the batch size only: divide by every value's count (C H W per image)",
                ),
                (close(0.125), "the content loss has no 1/2 in front here: the mean of the squares"),
            ],
        ),
        Case(
            (zeros.clone(), zeros[:1] - 0.5),
            0.25,
            "two images against one target (1, C, H, W) off by -0.5",
            mistakes=[(close(-0.5), "square the difference: a feature below its target costs as much as one above")],
        ),
        Case(
            (ref["content"]["feat"], ref["content"]["target"]),
            float(ref["content"]["expected"]),
            "the stored reference case",
            "the mean over every value of (feat - target)²",
        ),
    ]
    run_cases(fn, "content_loss", cases, value=_value, guarded=True)
    feat = ref["content"]["feat"].clone().requires_grad_(True)
    _backward_from(_run(fn, "content_loss", feat, ref["content"]["target"]), "content_loss", "features")
    expected = 2 * (ref["content"]["feat"] - ref["content"]["target"]) / feat.numel()
    if feat.grad is None or not torch.allclose(feat.grad, expected, atol=1e-6):
        raise AssertionError(
            "the gradient with respect to feat should be 2 (feat - target) / (number of values): "
            "build the loss with torch operations, without detach()"
        )
    print(
        "✓ content_loss passes 5 checks (equal features, a constant offset, broadcasting the target, stored "
        "reference, gradient)"
    )


def _tv_mistakes(pairs: int, wrap: float) -> list:
    """The usual wrong total variations of an image that changes along one direction only, with their hints."""
    close = lambda v: near(v, 1e-4, rel=True)  # noqa: E731
    return [
        (
            lambda v: close(0.5)(v) or close(0.5 * pairs)(v),
            "that is |.| (the beta = 1 total variation): square the differences",
        ),
        (close(0.25 * pairs), "that is the sum: take the mean of each direction's squared differences"),
        (close(0.125), "that is the average of the two directions: add them"),
        (close(wrap), "torch.roll wraps around: the last column (row) is compared with the first; slice instead"),
    ]


@_explain_errors
def check_total_variation(fn: Callable[[Tensor], Tensor]) -> None:
    """Check ``fn(x (N, C, H, W)) -> scalar``: mean of the squared differences between horizontal neighbours plus
    mean of the squared differences between vertical neighbours."""
    ref = load_perceptual_reference()

    def value(x: Tensor) -> float:
        return _value(_run(fn, "total_variation", x), "total_variation")

    _expect(value(torch.full((2, 3, 5, 7), 0.3)), 0.0, "a constant image", "neighbours are equal: nothing varies")
    across = torch.linspace(-1, 1, 7).mul(1.5).view(1, 1, 1, 7).expand(2, 3, 5, 7).contiguous()  # steps of 0.5 along W
    down = torch.linspace(-1, 1, 5).view(1, 1, 5, 1).expand(2, 3, 5, 7).contiguous()  # steps of 0.5 along H
    got_w, got_h = value(across), value(down)
    one_way = "you only take differences along one direction: add the other, "
    pairs_w, pairs_h = 2 * 3 * 5 * 6, 2 * 3 * 4 * 7  # neighbour pairs along W and along H
    # (the value, the case, the missing direction when it is 0, the pairs of neighbours, what torch.roll's wrap gives)
    one_way_cases = [
        (
            got_w,
            "an image that changes only from left to right (steps of 0.5 along W)",
            "x[..., :, 1:] - x[..., :, :-1] (horizontal neighbours)",
            pairs_w,
            (6 * 0.25 + 9) / 7,
        ),
        (
            got_h,
            "an image that changes only from top to bottom (steps of 0.5 along H)",
            "x[..., 1:, :] - x[..., :-1, :] (vertical neighbours)",
            pairs_h,
            (4 * 0.25 + 4) / 5,
        ),
    ]
    for got, case, missing, pairs, wrap in one_way_cases:
        _expect(got, 0.25, case, one_way + missing if abs(got) < 1e-6 else first_hint(got, _tv_mistakes(pairs, wrap)))
    checker = (torch.arange(5).view(5, 1) + torch.arange(7).view(1, 7)) % 2 * 2.0 - 1
    cases = [
        Case(
            (checker.expand(2, 3, 5, 7).contiguous(),),
            8.0,
            "a ±1 checkerboard (every neighbour differs by 2)",
            mistakes=[(near(4.0, 1e-4, rel=True), "that is the average of the two directions: add them (4 + 4)")],
        ),
        Case((ref["tv"]["x"],), float(ref["tv"]["expected"]), "the stored reference case"),
    ]
    run_cases(fn, "total_variation", cases, value=_value, guarded=True)
    x = ref["tv"]["x"].clone().requires_grad_(True)
    _backward_from(_run(fn, "total_variation", x), "total_variation", "image")
    if x.grad is None or not x.grad.abs().sum() > 0:
        raise AssertionError("no gradient reached the image: build the loss with torch operations, without detach()")
    print(
        "✓ total_variation passes 6 checks (a constant image, each direction alone, a checkerboard, stored "
        "reference, gradient)"
    )


__all__ = ["check_content_loss", "check_gram_matrix", "check_style_loss", "check_total_variation"]
