"""Checks of notebook 10: applications (the passcode input, video flicker, the deepfake detector's step)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ._core import _backward, _concat_hint, _expect, _explain_errors, _run

_PC_IMAGES = torch.linspace(-1, 1, 2 * 1 * 3 * 5).reshape(2, 1, 3, 5)
_PC_CODES = torch.tensor([[1.0, -1.0, 1.0, 1.0], [-1.0, 1.0, 1.0, -1.0]])
_STORED_PASSCODE_INPUT = (
    0.3948730230331421  # (passcode_input(_PC_IMAGES, _PC_CODES) * cos(arange(150)).reshape(2, 5, 3, 5)).sum()
)

# The usual wrong shapes of passcode_input(images (3, 2, 3, 5), codes (3, 4)), each with its hint.
_PASSCODE_SHAPES = {
    (3, 4, 3, 5): "that is the codes' planes alone: the image was dropped. G must see the face it anonymises, so "
    "put the image first, then the planes",
    (3, 2, 3, 5): "that is the image alone: the passcode is missing",
    (3, 6, 5, 3): "H and W are swapped: the planes must have the image's height and width",
}


@_explain_errors
def check_passcode_input(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(images (N, C, H, W), codes (N, B) in {-1, +1}) -> (N, C + B, H, W)``: the image first, then bit k of
    sample i as a constant H x W plane in channel C + k of sample i, values -1 and +1 as given."""
    images = torch.linspace(-0.9, 0.9, 3 * 2 * 3 * 5).reshape(3, 2, 3, 5)  # N=3, C=2, H=3, W=5 (not square)
    codes = torch.tensor([[1.0, -1.0, -1.0, 1.0], [-1.0, -1.0, 1.0, 1.0], [1.0, 1.0, -1.0, -1.0]])  # rows all differ
    out = _run(
        fn,
        "passcode_input",
        images,
        codes,
        hint="Turn codes (N, B) into planes (N, B, H, W) with "
        "codes[:, :, None, None].expand(...) and join them after the images with torch.cat along dim=1.",
    )
    if not isinstance(out, Tensor):
        raise AssertionError(f"return a torch.Tensor, got {type(out).__name__}")
    if tuple(out.shape) != (3, 6, 3, 5):
        got = tuple(out.shape)
        hint = _PASSCODE_SHAPES.get(got) or _concat_hint(got, (3, 2, 3, 5), (3, 4, 3, 5))
        raise AssertionError(
            f"images (3, 2, 3, 5) with passcodes (3, 4) must give (3, 6, 3, 5): C + B channels, got {got}. {hint}"
        )
    if not torch.is_floating_point(out):
        raise AssertionError(f"return a floating-point tensor (the generator's input), got {out.dtype}")
    if not torch.equal(out[:, :2], images):
        code_first = torch.equal(out[:, 4:], images)
        raise AssertionError(
            "the first C channels must be the image itself, unchanged"
            + (
                ": you put the passcode planes first. The convention here is the image first, then "
                "the B planes (the generator's first layer expects that order)"
                if code_first
                else ": use torch.cat([images, planes], dim=1)"
            )
        )
    planes = out[:, 2:]
    flat = planes.flatten(2)  # (N, B, H W)
    if not torch.equal(flat, flat[:, :, :1].expand_as(flat)):
        rows = planes[:, :, :1, :]
        only_one_row = bool((planes[:, :, 1:] == 0).all()) and torch.equal(
            rows[:, :, 0, :].amax(-1).abs(), torch.ones(3, 4)
        )
        raise AssertionError(
            "each bit must fill its whole H x W plane with one value (a constant plane per bit), but "
            "the planes vary over the pixels"
            + (
                ": only the first row holds the code. Tile the codes over every row and column with "
                "codes[:, :, None, None].expand(N, B, H, W)"
                if only_one_row
                else ": the codes were not tiled over H and W (a reshape of a repeated tensor mixes the bits "
                "up; use codes[:, :, None, None].expand(N, B, H, W))"
            )
        )
    values = flat[:, :, 0]  # (N, B): the constant of each plane
    if torch.equal(values, (codes + 1) / 2):
        raise AssertionError(
            "the planes hold the bits as 0 and 1: the convention here is -1 and +1 (centred, like the "
            "images, and the inverse passcode is simply -p). Use the codes as they are"
        )
    if not torch.equal(values, codes):
        mixed = any(torch.equal(values[i], codes[j]) for i in range(3) for j in range(3) if i != j)
        raise AssertionError(
            f"plane k of sample i must hold codes[i, k]: expected {codes.tolist()}, got {values.tolist()}"
            + (
                ": some sample got another sample's passcode (the batch is mixed up: "
                "codes.repeat(...) tiles the whole batch, repeat_interleave tiles each row; "
                "expand(N, B, H, W) after codes[:, :, None, None] keeps every code with its image)"
                if mixed
                else ""
            )
        )
    wide = _run(fn, "passcode_input", torch.zeros(2, 1, 4, 4), torch.ones(2, 16))
    if tuple(wide.shape) != (2, 17, 4, 4):
        raise AssertionError(
            f"a grey image (1 channel) with 16-bit passcodes must give 17 channels, got {tuple(wide.shape)}: "
            "use C and B from the inputs' shapes, not fixed numbers"
        )
    weights = torch.cos(torch.arange(150.0)).reshape(2, 5, 3, 5)
    _expect(
        float((_run(fn, "passcode_input", _PC_IMAGES, _PC_CODES) * weights).sum()),
        _STORED_PASSCODE_INPUT,
        "the stored reference case",
    )
    x = images.clone().requires_grad_(True)
    out = _run(fn, "passcode_input", x, codes)
    if out.requires_grad:
        _backward(out.sum(), "passcode_input")
    if x.grad is None or not torch.equal(x.grad, torch.ones_like(x)):
        raise AssertionError(
            "the gradient must flow back to the images unchanged (the recovery loss trains G through "
            "its input, the anonymised face): build the result with torch.cat, without detach()"
        )
    print(
        "✓ passcode_input passes 8 checks (shape, image first, constant planes, ±1 bits, each sample's own code, "
        "channel counts, stored reference, gradient)"
    )


def _flicker_mistakes(frames: Tensor, labels: Tensor) -> dict[str, float]:
    """What the usual wrong flicker metrics give on frames (T, C, H, W) and labels (T, H, W), each with its hint."""
    change = (frames[1:] - frames[:-1]).abs()  # (T - 1, C, H, W)
    same = labels[1:] == labels[:-1]  # (T - 1, H, W)
    pooled = lambda c, m: float(c[m].mean())  # noqa: E731
    wrap_change = (frames - frames.roll(1, 0)).abs().mean(1)
    return {
        "that counts every pixel: keep only the pixels whose label is the same in frames t - 1 and t "
        "(labels[1:] == labels[:-1])": float(change.mean()),
        "that keeps the pixels whose label CHANGES: keep those where labels[1:] == labels[:-1]": pooled(
            change.mean(1), ~same
        ),
        "that averages over every pixel with the changed ones set to 0: divide by the number of unchanged pixels "
        "(index with the mask, then .mean())": float((change.mean(1) * same).mean()),
        "that squares the differences: take the absolute difference |frames[t] - frames[t - 1]|": pooled(
            (frames[1:] - frames[:-1]).square().mean(1), same
        ),
        "that is the sum: take the mean over the unchanged pixels": float(change.mean(1)[same].sum()),
        "that sums over the channels: average |.| over the C channels": pooled(change.sum(1), same),
        "that uses channel 0 only: average over all C channels": pooled(change[:, 0], same),
        "that compares every frame with the first one: compare frame t with frame t - 1 "
        "(frames[1:] - frames[:-1])": pooled((frames[1:] - frames[:1]).abs().mean(1), labels[1:] == labels[:1]),
        "that compares every frame with the first one (the mask is right): compare frame t with frame t - 1": pooled(
            (frames[1:] - frames[:1]).abs().mean(1), same
        ),
        "that wraps around (torch.roll): the last frame is compared with the first; slice "
        "frames[1:] - frames[:-1]": pooled(wrap_change, labels == labels.roll(1, 0)),
        "that leaves out the last pair of frames: t runs over 1..T-1": pooled(change[:-1].mean(1), same[:-1]),
        "that leaves out the first pair of frames: t runs over 1..T-1": pooled(change[1:].mean(1), same[1:]),
        "that compares frames two apart: consecutive frames are t - 1 and t": pooled(
            (frames[2:] - frames[:-2]).abs().mean(1), labels[2:] == labels[:-2]
        ),
        "that averages each pair's mean over the pairs: pool the unchanged pixels of all pairs, then take one "
        "mean": float(torch.stack([change[t].mean(0)[same[t]].mean() for t in range(len(same))]).mean()),
    }


@_explain_errors
def check_flicker(fn: Callable[[Tensor, Tensor], object]) -> None:
    """Check ``fn(frames (T, C, H, W), labels (T, H, W)) -> float``: the mean over the frame pairs (t - 1, t) and the
    pixels whose label is the same in both of |frames[t] - frames[t - 1]|, averaged over the channels."""

    def value(frames: Tensor, labels: Tensor) -> float:
        got = fn(frames.clone(), labels.clone())
        if isinstance(got, Tensor):
            if got.numel() != 1:
                raise AssertionError(
                    f"flicker must return one number (a float or a scalar tensor), got shape "
                    f"{tuple(got.shape)}: average over the pairs, the pixels and the channels"
                )
            return float(got)
        if not isinstance(got, (float, int)):
            raise AssertionError(f"flicker must return a float, got {type(got).__name__}")
        return float(got)

    def compare(frames: Tensor, labels: Tensor, case: str) -> None:
        got = value(frames, labels)
        expected = float((frames[1:] - frames[:-1]).abs().mean(1)[labels[1:] == labels[:-1]].mean())
        hint = next(
            (
                h
                for h, v in _flicker_mistakes(frames, labels).items()
                if math.isclose(got, v, rel_tol=1e-4, abs_tol=1e-6)
            ),
            "",
        )
        _expect(got, expected, case, hint)

    # First random frames and labels, where every known mistake gives a different number (so the hint is sure).
    gen = torch.Generator().manual_seed(10)
    frames = torch.rand(6, 3, 5, 7, generator=gen) * 2 - 1
    labels = (torch.rand(6, 5, 7, generator=gen) < 0.25).long() + (torch.rand(6, 5, 7, generator=gen) < 0.1).long()
    compare(frames, labels, "random frames (6, 3, 5, 7) with random labels (6, 5, 7)")
    # By hand: pixel (0, 0) keeps its label; its channel 0 steps by 0.4 at t = 1 and stays, so the channel means are
    # 0.4 / 3 for the pair (0, 1) and 0 for (1, 2): flicker 0.4 / 6. Pixel (0, 1) changes its label at t = 1 and back
    # at t = 2, with a big step: it is left out of both pairs.
    labels = torch.zeros(3, 1, 2, dtype=torch.int64)
    labels[1, 0, 1] = 1
    frames = torch.zeros(3, 3, 1, 2)
    frames[1:, 0, 0, 0] = 0.4
    frames[1, :, 0, 1] = 0.9
    compare(frames, labels, "by hand: 3 frames of 1 x 2 pixels, one pixel changes its label (expected 0.4 / 6)")
    # A moving square on a still background: only the background counts.
    labels = torch.zeros(5, 8, 8, dtype=torch.int64)
    frames = torch.zeros(5, 3, 8, 8) + torch.linspace(-0.5, 0.5, 8)
    frames[:, 1] += 0.1 * torch.arange(5).view(5, 1, 1)  # the green channel brightens a little every frame
    for t in range(5):
        labels[t, 2:5, t : t + 3] = 1
        frames[t, :, 2:5, t : t + 3] = 0.9
    compare(frames, labels, "a square moving right on a background whose green brightens by 0.1 a frame")
    still = torch.full((4, 3, 2, 3), 0.3)
    _expect(value(still, torch.zeros(4, 2, 3, dtype=torch.int64)), 0.0, "a video that does not change")
    print("✓ flicker passes 4 checks (random frames and labels, a case by hand, a moving square, a still video)")


def _detector_case(seed: int) -> tuple[torch.nn.Module, Tensor, Tensor, Tensor]:
    """A tiny linear detector on (4, 1, 3, 3) images, real images, and fakes made by a 'generator' parameter."""
    gen = torch.Generator().manual_seed(seed)
    detector = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(9, 1))
    with torch.no_grad():
        detector[1].weight.copy_(torch.randn(1, 9, generator=gen) * 0.5)
        detector[1].bias.fill_(0.2)
    real = torch.rand(4, 1, 3, 3, generator=gen) * 2 - 1
    scale = torch.ones((), requires_grad=True)  # the generator's one weight: fakes depend on it
    fake = scale * (torch.rand(4, 1, 3, 3, generator=gen) * 2 - 1)
    return detector, real, fake, scale


def _detector_loss(
    detector: torch.nn.Module, real: Tensor, fake: Tensor, real_label: float = 1.0, reduce: str = "mean"
) -> Tensor:
    """The detector's BCE-with-logits loss on real and (detached) fake images, with the given labels and reduction."""
    logits = detector(torch.cat([real, fake.detach()]))
    labels = torch.cat([torch.full((len(real), 1), real_label), torch.full((len(fake), 1), 1 - real_label)])
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction=reduce)


@_explain_errors
def check_detector_step(fn: Callable[[torch.nn.Module, torch.optim.Optimizer, Tensor, Tensor], object]) -> None:
    """Check ``fn(detector, optimiser, real (N, C, H, W), fake (N, C, H, W)) -> loss``: one step of binary
    cross-entropy on the logits, real labelled 1 and fake 0, mean over all 2N images, gradients zeroed first,
    the fakes detached from the generator, one optimiser step."""
    import copy

    for seed in (0, 1):
        detector, real, fake, scale = _detector_case(seed)
        reference = copy.deepcopy(detector)
        expected = _detector_loss(reference, real, fake)
        opt_ref = torch.optim.SGD(reference.parameters(), lr=0.5)
        opt_ref.zero_grad()
        expected.backward()
        opt_ref.step()
        expected = float(expected.detach())
        for p in detector.parameters():  # stale gradients, as a previous step would leave them
            p.grad = torch.full_like(p, 3.0)
        before = [p.detach().clone() for p in detector.parameters()]
        got = fn(detector, torch.optim.SGD(detector.parameters(), lr=0.5), real, fake)
        case = f"case {seed + 1}: a linear detector on 4 real and 4 fake 3x3 images"
        if not isinstance(got, (Tensor, float)) or (isinstance(got, Tensor) and got.numel() != 1):
            raise AssertionError(
                f"{case}: return the loss, one number (a scalar tensor or a float), got {type(got).__name__}"
            )
        value = float(got.detach()) if isinstance(got, Tensor) else float(got)
        with torch.no_grad():
            hints = {
                float(
                    _detector_loss(_detector_case(seed)[0], real, fake, 0.0)
                ): "Real images are labelled 1 and fakes 0 (you swapped them).",
                float(
                    _detector_loss(_detector_case(seed)[0], real, fake, 1.0, "sum")
                ): "Average over the 2N images (you summed).",
                float(
                    _detector_loss(_detector_case(seed)[0], real[:0], fake)
                ): "Both halves count: the loss has a term for the real images too.",
                float(
                    _detector_loss(_detector_case(seed)[0], real, fake[:0])
                ): "Both halves count: the loss has a term for the fake images too.",
            }
        if not math.isclose(value, expected, rel_tol=1e-4, abs_tol=1e-6):
            hint = next((h for v, h in hints.items() if math.isclose(value, v, rel_tol=1e-4)), "")
            raise AssertionError(
                f"{case}: the loss should be {expected:.6g}, got {value:.6g}. {hint} "
                "Use F.binary_cross_entropy_with_logits on the detector's logits.".strip()
            )
        if scale.grad is not None:
            raise AssertionError(
                f"{case}: gradients reached the generator. Detach the fakes (fake.detach()): the "
                "detector's step must leave the generator alone."
            )
        after = list(detector.parameters())
        if all(torch.equal(a, b) for a, b in zip(after, before)):
            raise AssertionError(
                f"{case}: the detector's weights did not change: call optimiser.step() after loss.backward()."
            )
        if not all(torch.allclose(a, b, atol=1e-5) for a, b in zip(after, reference.parameters())):
            raise AssertionError(
                f"{case}: the loss is right but the step is not: the weights moved as if old "
                "gradients were still there. Call optimiser.zero_grad() before loss.backward()."
            )
    print("✓ detector_step passes 2 checks (loss value, labels, mean, detached fakes, zeroed gradients, one step)")


__all__ = ["check_detector_step", "check_flicker", "check_passcode_input"]
