"""Checks of notebook 07: CycleGAN (the cycle and identity losses, the image pool, the least-squares D loss)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ._core import Case, _backward, _expect, _explain_errors, _run, _value, first_hint, near, run_cases

# Fixed inputs for the stored reference values of the CycleGAN exercises (computed once with utils.cyclegan).
_CYC_A = torch.linspace(-1, 1, 32).reshape(2, 1, 4, 4)  # domain A: one channel
_CYC_REC_A = torch.linspace(0.8, -0.9, 32).reshape(2, 1, 4, 4)
_CYC_B = torch.linspace(-0.5, 1, 96).reshape(2, 3, 4, 4)  # domain B: three channels
_CYC_REC_B = torch.linspace(1, -1, 96).reshape(2, 3, 4, 4)
_STORED_CYCLE = 1.8567028045654297  # cycle_loss(_CYC_A, _CYC_REC_A, _CYC_B, _CYC_REC_B)
_IDT_SAME_A = torch.linspace(-0.9, 0.7, 32).reshape(2, 1, 4, 4)
_IDT_B = torch.linspace(1, -1, 32).reshape(2, 1, 4, 4)
_IDT_SAME_B = torch.linspace(0.3, -0.6, 32).reshape(2, 1, 4, 4)
_STORED_IDENTITY = 0.43104836344718933  # identity_loss(_CYC_A, _IDT_SAME_A, _IDT_B, _IDT_SAME_B)
_LS_REAL = torch.linspace(-1, 2.5, 18).reshape(2, 1, 3, 3)
_LS_FAKE = torch.linspace(1.5, -0.8, 18).reshape(2, 1, 3, 3)
_STORED_LSGAN_D = 0.9093137383460999  # lsgan_discriminator_loss(_LS_REAL, _LS_FAKE)
_STORED_POOL_SWAPS = 986  # utils.cyclegan.ImagePool(5, seed=0): swaps among the 2,004 images after filling


def _check_two_way_l1(
    fn: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor],
    name: str,
    lam: str,
    stored: tuple[Tensor, Tensor, Tensor, Tensor, float],
) -> None:
    """The shared part of the cycle and identity checks: ``fn(real_a, x_a, real_b, x_b)`` must be
    mean |x_a - real_a| + mean |x_b - real_b|, unweighted, with gradients to x_a and x_b."""
    a, b = torch.zeros(2, 1, 4, 4), torch.zeros(2, 3, 4, 4)

    def value(xa: Tensor, xb: Tensor, case: str, hint: str = "") -> float:
        return _value(_run(fn, name, a, xa, b, xb, hint=hint), name)

    _expect(value(a.clone(), b.clone(), "both directions exact"), 0.0, f"{name} when both images come back exactly")
    off_a = value(a + 0.5, b.clone(), "A off by 0.5")
    off_b = value(a.clone(), b - 0.25, "B off by 0.25")
    squared = abs(off_a - 0.25) < 1e-4 and abs(off_b - 0.0625) < 1e-4
    # (the value, expected, case, the typical mistakes)
    one_way = [
        (
            off_a,
            0.5,
            f"{name} when every pixel of A is off by 0.5 and B is exact",
            [
                (lambda v: v == 0, "you measured only the B direction: add the A term, mean |x_a - real_a|"),
                (lambda v: squared, "0.25 is the squared error (L2): CycleGAN uses the absolute error (L1)"),
                (lambda v: v < 0.5, "add the two directions' means; do not average them (or the concatenated pixels)"),
                (
                    lambda v: any(abs(v - w * 0.5) < 1e-4 for w in (0.5, 5.0, 10.0)),
                    f"return the loss unweighted: {lam} weighs it in the training step, not here",
                ),
                (lambda v: v > 1, "average over every pixel and channel, not a sum"),
            ],
        ),
        (
            off_b,
            0.25,
            f"{name} when A is exact and every pixel of B is off by -0.25",
            [
                (lambda v: v == 0, "you measured only the A direction: add the B term, mean |x_b - real_b|"),
                (near(-0.25), "take the absolute value: an error of -0.25 costs as much as +0.25"),
            ],
        ),
    ]
    for got, expected, case, mistakes in one_way:
        _expect(got, expected, case, first_hint(got, mistakes))
    _expect(
        value(a + 0.5, b - 0.25, "both off"),
        0.75,
        f"{name} with A off by 0.5 and B off by -0.25",
        "the two directions add up: 0.5 + 0.25",
    )
    ra, xa, rb, xb, expected = stored
    _expect(
        _value(_run(fn, name, ra, xa, rb, xb), name),
        expected,
        f"{name}, the stored reference case",
        "the signs of the errors vary here: take |.| before averaging, and compare each image with its own "
        "domain's original (real_a with the A images, real_b with the B images)",
    )
    xa, xb = xa.clone().requires_grad_(True), xb.clone().requires_grad_(True)
    _backward(_run(fn, name, ra, xa, rb, xb), name)
    for what, x, r in (("A", xa, ra), ("B", xb, rb)):
        if x.grad is None or not torch.allclose(x.grad, torch.sign(x.detach() - r) / x.numel(), atol=1e-6):
            raise AssertionError(
                f"{name}: the gradient with respect to the {what} images should be sign(x - real) / "
                "(number of values): build the loss from them with torch operations, without detach()"
            )


@_explain_errors
def check_cycle_loss(fn: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(real_a, rec_a (N, C_a, H, W), real_b, rec_b (N, C_b, H, W)) -> scalar``: cycle consistency in both
    directions, mean |rec_a - real_a| + mean |rec_b - real_b| with rec_a = F(G(a)) and rec_b = G(F(b))."""
    _check_two_way_l1(fn, "cycle_loss", "lambda = 10", (_CYC_A, _CYC_REC_A, _CYC_B, _CYC_REC_B, _STORED_CYCLE))
    print("✓ cycle_loss passes 6 checks (each direction alone, both, stored reference, gradients to both)")


@_explain_errors
def check_identity_loss(fn: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(real_a, same_a, real_b, same_b (N, C, H, W)) -> scalar``: the identity loss
    mean |same_a - real_a| + mean |same_b - real_b| with same_a = F(a) and same_b = G(b)."""
    _check_two_way_l1(
        fn, "identity_loss", "0.5 * lambda = 5", (_CYC_A, _IDT_SAME_A, _IDT_B, _IDT_SAME_B, _STORED_IDENTITY)
    )
    print("✓ identity_loss passes 6 checks (each direction alone, both, stored reference, gradients to both)")


def _tagged(tags: list[int], grad: bool = True) -> Tensor:
    """Images (N, 1, 2, 2), image i filled with the number tags[i]: a batch whose images can be told apart; with
    ``grad``, the batch is the result of a computation (as G's output is), so it requires grad."""
    images = torch.tensor(tags, dtype=torch.float32).reshape(-1, 1, 1, 1).expand(-1, 1, 2, 2)
    return images.clone().requires_grad_(True) * 1 if grad else images.clone()


def _tags_of(out: object, batch: Tensor, case: str) -> list[int]:
    """The tag of each image a pool returned, after checking type, shape and detachment."""
    if not isinstance(out, Tensor):
        raise AssertionError(f"{case}: query must return a torch.Tensor (a batch), got {type(out).__name__}")
    if tuple(out.shape) != tuple(batch.shape):
        raise AssertionError(
            f"{case}: query must return a batch of the input's shape {tuple(batch.shape)}, got "
            f"{tuple(out.shape)}: one image out for each image in (torch.stack the list)"
        )
    if out.requires_grad:
        raise AssertionError(
            f"{case}: the returned images still require grad: return detached images "
            "(images.detach()), and store detached copies. The pool feeds D's step only; a stored "
            "image attached to an old graph would keep that graph alive, or backpropagate into G"
        )
    flat = out.detach().reshape(len(out), -1)
    tags = flat[:, 0].round()
    if not torch.equal(flat, tags[:, None].expand_as(flat)):
        raise AssertionError(f"{case}: the returned images are not the images given to the pool (changed values?)")
    return [int(t) for t in tags]


@_explain_errors
def check_image_pool(cls: Callable[..., object]) -> None:
    """Check ``cls(size=50, seed=0)`` with ``query(images (N, C, H, W)) -> (N, C, H, W)``: the discriminators' history
    of generated images. Deterministic: Python's, NumPy's and PyTorch's global generators are seeded for the check
    (and restored after it); the frequencies are compared with a tolerance of several standard deviations."""
    import random

    import numpy as np

    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[]):
            random.seed(0)
            np.random.seed(0)
            torch.manual_seed(0)
            swaps, n = _pool_run(cls)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    print(
        f"✓ ImagePool passes 8 checks (size 0, filling first, detached, one swap per image at most, the new image "
        f"stored, nothing returned twice, {swaps}/{n} swaps ~ 1/2 as the reference's {_STORED_POOL_SWAPS}, "
        "image by image)"
    )


def _pool_run(cls: Callable[..., object]) -> tuple[int, int]:
    """The body of :func:`check_image_pool`; returns (swaps, images queried after filling)."""
    # 1. size 0: no pool, every image goes through, detached, and nothing is kept.
    pool = cls(0)
    for tags in ([1, 2, 3], [4, 5]):
        batch = _tagged(tags)
        got = _tags_of(_run(pool.query, "ImagePool(0).query", batch), batch, "size 0 (no pool)")
        if got != tags:
            raise AssertionError(
                f"size 0 turns the pool off: query must return its images as they are ({tags}), got {got}"
            )
    # 2. the default size is 50: the first 50 images fill it and go through unchanged.
    pool = cls()
    batch = _tagged(list(range(1, 51)))
    if _tags_of(_run(pool.query, "ImagePool().query", batch), batch, "ImagePool(), first 50 images") != list(
        range(1, 51)
    ):
        raise AssertionError(
            "ImagePool() holds 50 images: the first 50 must be stored and returned as they are "
            "(fill first: toss the coin only once the pool is full)"
        )
    # 3. size 5: fill with 3 + 2 images (returned as they are), then 2 + 1,000 x 2 images, one at a time.
    pool = cls(5, seed=0)
    fill_hint = (
        "until the pool holds `size` images, store each new image and return it as it is; the coin is "
        "tossed only once the pool is full (fill first)"
    )
    batch = _tagged([1, 2, 3])
    got = _tags_of(_run(pool.query, "ImagePool(5).query", batch), batch, "the first 3 images")
    if got != [1, 2, 3]:
        raise AssertionError(
            f"a pool of 5 given its first 3 images must return them as they are, got {got}: {fill_hint}"
        )
    stored = {1, 2, 3}
    history: dict[int, str] = {1: "stored", 2: "stored", 3: "stored"}
    swaps = mixed = newest = oldest = 0
    next_tag = 4
    for step in range(1002):
        size = 4 if step == 0 else 2
        tags = list(range(next_tag, next_tag + size))
        next_tag += size
        batch = _tagged(tags)
        got = _tags_of(_run(pool.query, "ImagePool(5).query", batch), batch, f"query {step + 2} (images {tags})")
        batch_swaps = 0
        for new, out in zip(tags, got):
            if len(stored) < 5:
                if out != new:
                    raise AssertionError(
                        f"the pool held {len(stored)} of 5 images and returned image {out} for the new "
                        f"image {new}: {fill_hint}"
                    )
                stored.add(new)
                history[new] = "stored"
            elif out == new:
                history[new] = "returned"
            elif out in stored:
                swaps += 1
                batch_swaps += 1
                newest += out == max(stored)
                oldest += out == min(stored)
                stored.remove(out)
                stored.add(new)
                history[out], history[new] = "handed out", "stored"
            else:
                why = {
                    "handed out": f"image {out} came back from the pool twice: when you return a stored image, the "
                    "new image must take its place (self.images[i] = the new image), so each stored "
                    "image comes back at most once",
                    "returned": f"image {out} went through as it was AND came back from the pool later: when the "
                    "new image goes through, do not store it; store it only in place of the one you "
                    "return (or while filling)",
                }.get(history.get(out, ""), f"image {out} was never stored in the pool")
                raise AssertionError(
                    f"for the new image {new} the pool returned image {out}, which should not be in the pool: {why}"
                )
        if len(tags) == 2 and batch_swaps == 1:
            mixed += 1
    n = next_tag - 6  # images queried once the pool is full
    if swaps == 0:
        raise AssertionError(
            f"the full pool never returned a stored image in {n} queries: with probability 1/2 return "
            "a random stored image and put the new one in its place (only returning new images makes "
            "the history pointless)"
        )
    if swaps == n:
        raise AssertionError(
            f"the full pool swapped every one of {n} images: with probability 1/2 the new image goes "
            "through as it is (D must also see the latest generator's images)"
        )
    if abs(swaps - _STORED_POOL_SWAPS) > 0.06 * n:
        raise AssertionError(
            f"the full pool swapped {swaps} of {n} images; with probability 1/2 per image expect about "
            f"{n // 2} (the reference swapped {_STORED_POOL_SWAPS}): toss one fair coin per image, "
            "e.g. self.rng.random() < 0.5"
        )
    if not any(t > 5 and h == "handed out" for t, h in history.items()):
        raise AssertionError(
            "no image stored after the pool was full ever came back: put the new image in the slot "
            "of the one you return"
        )
    if mixed < 0.3 * 1001:
        raise AssertionError(
            f"only {mixed} of 1,001 batches of 2 had one image swapped and one not: toss the coin "
            "image by image, not once per batch"
        )
    if max(newest, oldest) > 0.5 * swaps:
        raise AssertionError(
            f"the returned stored image was the {'newest' if newest > oldest else 'oldest'} one in "
            f"{max(newest, oldest)} of {swaps} swaps: pick the stored image at random "
            "(self.rng.randrange(self.size))"
        )
    return swaps, n


@_explain_errors
def check_lsgan_discriminator_loss(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(real_scores, fake_scores (N, 1, H', W')) -> scalar``: the least-squares discriminator loss
    ½[mean (D(real) - 1)² + mean D(fake)²] over every patch."""

    ones, zeros = torch.ones(2, 1, 3, 3), torch.zeros(2, 1, 3, 3)
    swapped = "the targets are swapped: real -> 1, fake -> 0"
    cases = [
        Case(
            (ones, zeros),
            0.0,
            "a perfect D (real scores 1, fake scores 0)",
            mistakes=[
                (near(1), f"a loss near 1 here means {swapped}"),
                (
                    lambda v: v > 0,
                    "least squares on the scores as they are (no sigmoid, no log, no cross-entropy): (D(real) - 1)² "
                    "and D(fake)² are both 0 here",
                ),
            ],
        ),
        Case(
            (zeros, zeros),
            0.5,
            "real and fake scores all 0",
            mistakes=[
                (near(1), "the ½ is missing: ½[mean (D(real) - 1)² + mean D(fake)²]"),
                (
                    near(2 * math.log(2), 1e-3),
                    "2 log 2 is the cross-entropy on logits (BCE-with-logits): LSGAN squares the distance to the "
                    "target",
                ),
                (lambda v: v > 2, "average over every patch, not a sum"),
            ],
        ),
        Case(
            (zeros, ones),
            1.0,
            "a D that is wrong everywhere (real scores 0, fake scores 1)",
            mistakes=[(near(0), f"a loss of 0 here means {swapped}")],
        ),
    ]
    run_cases(fn, "lsgan_discriminator_loss", cases, value=_value, guarded=True)
    far_real, far_fake = torch.full((2, 1, 3, 3), 3.0, requires_grad=True), torch.full((2, 1, 3, 3), -2.0)
    loss = _run(fn, "lsgan_discriminator_loss", far_real, far_fake)
    _expect(
        _value(loss, "lsgan_discriminator_loss"),
        4.0,
        "real scores 3 and fake scores -2 (right side, far away)",
        "½[(3 - 1)² + (-2)²] = 4: the least-squares loss keeps penalising scores past their target",
    )
    _backward(loss, "lsgan_discriminator_loss")
    if far_real.grad is None or not torch.allclose(far_real.grad, torch.full_like(far_real, 2.0 / 18), atol=1e-6):
        raise AssertionError(
            "for real scores of 3 the gradient per score should be (3 - 1) / 18 = 0.111 (18 scores): "
            "it does not vanish far from the boundary, which is LSGAN's point. Square the "
            "difference, with torch operations"
        )
    run_cases(
        fn,
        "lsgan_discriminator_loss",
        [Case((_LS_REAL, _LS_FAKE), _STORED_LSGAN_D, "the stored reference case")],
        value=_value,
        guarded=True,
    )
    real, fake = _LS_REAL.clone().requires_grad_(True), _LS_FAKE.clone().requires_grad_(True)
    _backward(_run(fn, "lsgan_discriminator_loss", real, fake), "lsgan_discriminator_loss")
    if (
        real.grad is None
        or fake.grad is None
        or not torch.allclose(real.grad, (_LS_REAL - 1) / 18, atol=1e-6)
        or not torch.allclose(fake.grad, _LS_FAKE / 18, atol=1e-6)
    ):
        raise AssertionError(
            "the gradients should be (D(real) - 1) / N and D(fake) / N (N scores in each map): "
            "build the loss from both score maps with torch operations"
        )
    print(
        "✓ lsgan_discriminator_loss passes 7 checks (known cases, scores far past the target, stored reference, "
        "gradients)"
    )


__all__ = ["check_cycle_loss", "check_identity_loss", "check_image_pool", "check_lsgan_discriminator_loss"]
