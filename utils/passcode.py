"""Anonymisation with a passcode (in the spirit of Gu et al., 2020, "Password-conditioned Anonymization and
Deanonymization with Face Identity Transformers"): one generator G, conditioned on a passcode p in {-1, +1}^B, maps a
face x to an anonymised face y = G(x, p); the inverse passcode -p maps y back, G(y, -p) = x, while a wrong passcode
gives yet another face. The losses: recovery with the right code, a hinge pushing wrong-code recoveries away from x, a
hinge keeping y away from x (and, optionally, from x's identity embedding), a diversity hinge between two passcodes and,
optionally, an LSGAN realism term. Images are (N, C, H, W) in [-1, 1]; passcodes are (N, B) in {-1, +1}.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import settings, train, validate
from .cyclegan import linear_decay, lsgan_discriminator_loss, lsgan_generator_loss


# --------------------------------------------------------------------------- passcodes and the generator's input
def random_passcodes(n: int, bits: int = 16, generator: torch.Generator | None = None) -> Tensor:
    """n random passcodes (n, bits), each bit -1 or +1 with probability 1/2 (float32)."""
    validate.positive_int(n, "n")
    validate.positive_int(bits, "bits")
    return torch.randint(0, 2, (n, bits), generator=generator).float() * 2 - 1


def _check_passcodes(codes: object, n: int | None = None) -> Tensor:
    """Raise a clear error unless ``codes`` is (N, B) with every value -1 or +1 (and N == n when given)."""
    codes = validate.tensor(codes, "codes")
    if codes.dim() != 2:
        raise ValueError(f"codes must be passcodes (N, B), one row per image, got shape {tuple(codes.shape)}")
    if n is not None and codes.shape[0] != n:
        raise ValueError(f"one passcode per image: {n} images but {codes.shape[0]} passcodes")
    if not bool(((codes == 1) | (codes == -1)).all()):
        raise ValueError("passcode bits must be -1 or +1 (map {0, 1} bits with 2 * b - 1)")
    return codes


def inverse_passcode(codes: Tensor) -> Tensor:
    """The passcode (N, B) that undoes ``codes`` (N, B): every bit flipped, -codes."""
    return -_check_passcodes(codes)


# >>> saved from notebooks/10_applications.ipynb (edit it there, then run `make save`) >>>
def passcode_input(images: Tensor, codes: Tensor) -> Tensor:
    """The generator's input: images (N, C, H, W) and passcodes (N, B) -> (N, C + B, H, W), the image first, then
    bit k of sample i as a constant H x W plane (channel C + k of sample i)."""
    if images.dim() != 4 or codes.dim() != 2 or codes.shape[0] != images.shape[0]:
        raise ValueError(
            f"images must be (N, C, H, W) and codes (N, B) with the same N, "
            f"got {tuple(images.shape)} and {tuple(codes.shape)}"
        )
    n, _, h, w = images.shape
    planes = codes.to(images)[:, :, None, None].expand(n, codes.shape[1], h, w)
    return torch.cat([images, planes], dim=1)


# <<< end of the code saved from notebooks/10_applications.ipynb <<<


def anonymise(generator: nn.Module, faces: Tensor, codes: Tensor) -> Tensor:
    """y = G(x, p): faces (N, C, H, W) under passcodes (N, B) -> anonymised faces (N, C, H, W), on G's device."""
    dev = next(generator.parameters()).device
    return generator(passcode_input(faces.to(dev), _check_passcodes(codes, faces.shape[0])))


def recover(generator: nn.Module, anonymised: Tensor, codes: Tensor) -> Tensor:
    """x' = G(y, -p): anonymised faces (N, C, H, W) and the passcodes (N, B) they were made with -> recovered faces
    (on G's device)."""
    dev = next(generator.parameters()).device
    return generator(passcode_input(anonymised.to(dev), inverse_passcode(_check_passcodes(codes, anonymised.shape[0]))))


# --------------------------------------------------------------------------- data: augmentation
def flip_and_shift(faces: Tensor, shift: int = 2, generator: torch.Generator | None = None) -> Tensor:
    """Faces (N, C, H, W) flipped left-right at random (p = 1/2), shifted by up to ``shift`` pixels (edges repeated)."""
    validate.tensor(faces, "faces")
    if faces.dim() != 4:
        raise ValueError(f"faces must be (N, C, H, W), got {tuple(faces.shape)}")
    n, _, h, w = faces.shape
    flip = torch.rand(n, generator=generator) < 0.5
    out = torch.where(flip.to(faces.device)[:, None, None, None], faces.flip(-1), faces)
    if shift > 0:
        padded = F.pad(out, (shift,) * 4, mode="replicate")
        dy, dx = torch.randint(0, 2 * shift + 1, (2, n), generator=generator).tolist()
        out = torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])
    return out


# --------------------------------------------------------------------------- the losses
def _per_image_l1(a: Tensor, b: Tensor) -> Tensor:
    """Mean |a - b| of each image: (N, C, H, W) twice -> (N,)."""
    return (a - b).abs().flatten(1).mean(1)


@dataclass(frozen=True)
class PasscodeWeights:
    """The weights and margins of the passcode losses (margins in mean-L1 units on [-1, 1] images)."""

    recovery: float = 10.0  # |G(G(x, p), -p) - x|
    wrong: float = 1.0  # hinge: max(0, m_wrong - |G(G(x, p), -p') - x|)
    anonymity: float = 1.0  # hinge: max(0, m_anon - |G(x, p) - x|) (+ the identity term)
    diversity: float = 1.0  # hinge: max(0, m_div - |G(x, p1) - G(x, p2)|)
    gan: float = 0.1  # LSGAN realism of G(x, p), when there is a discriminator
    identity: float = 1.0  # hinge on the cosine similarity of embeddings, when there is an identity function
    margin_wrong: float = 0.4
    margin_anonymity: float = 0.3
    margin_diversity: float = 0.3
    margin_cosine: float = 0.5


def passcode_losses(
    generator: nn.Module,
    x: Tensor,
    codes: Tensor,
    codes2: Tensor,
    wrong: Tensor,
    weights: PasscodeWeights = PasscodeWeights(),
    identity: Callable[[Tensor], Tensor] | None = None,
    discriminator: nn.Module | None = None,
    ramp: float = 1.0,
) -> dict[str, Tensor]:
    """G's losses on faces x (N, C, H, W) with passcodes ``codes``, a second ``codes2`` and wrong ``wrong`` (N, B);
    ``ramp`` in [0, 1] scales every term but the recovery (the warm-up: first learn to pass the face through).

    Returns scalar tensors ``total``, ``recovery``, ``wrong``, ``anonymity``, ``diversity``, ``identity`` and ``gan``
    (0 when unused) and, detached, the anonymised faces ``y`` (N, C, H, W) for the discriminator.
    """
    n = x.shape[0]
    # One pass for both anonymisations (batch norm sees one batch), one for both recoveries.
    ys = anonymise(generator, torch.cat([x, x]), torch.cat([codes, codes2]))
    y, y2 = ys[:n], ys[n:]
    recs = recover(generator, torch.cat([y, y]), torch.cat([codes, wrong]))
    rec, rec_wrong = recs[:n], recs[n:]
    out = {
        "recovery": F.l1_loss(rec, x),
        "wrong": F.relu(weights.margin_wrong - _per_image_l1(rec_wrong, x)).mean(),
        "anonymity": F.relu(weights.margin_anonymity - _per_image_l1(y, x)).mean(),
        "diversity": F.relu(weights.margin_diversity - _per_image_l1(y, y2)).mean(),
    }
    zero = torch.zeros((), device=x.device)
    out["identity"] = zero
    if identity is not None:  # the anonymised face must not be recognised as x: cosine below the margin
        cos = (identity(y) * identity(x).detach()).sum(1)
        out["identity"] = F.relu(cos - weights.margin_cosine).mean()
    out["gan"] = zero
    if discriminator is not None:
        discriminator.requires_grad_(False)
        out["gan"] = lsgan_generator_loss(discriminator(y))
        discriminator.requires_grad_(True)
    out["total"] = weights.recovery * out["recovery"] + ramp * (
        weights.wrong * out["wrong"]
        + weights.anonymity * out["anonymity"]
        + weights.diversity * out["diversity"]
        + weights.identity * out["identity"]
        + weights.gan * out["gan"]
    )
    out["y"] = y.detach()
    return out


# --------------------------------------------------------------------------- the training loop
def train_passcode(
    generator: nn.Module,
    faces: Tensor,
    steps: int,
    batch_size: int = 16,
    bits: int = 16,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.5, 0.999),
    weights: PasscodeWeights = PasscodeWeights(),
    identity: Callable[[Tensor], Tensor] | None = None,
    discriminator: nn.Module | None = None,
    augment: bool = True,
    warmup: int = 100,
    decay_from: float = 0.5,
    log_every: int = 25,
    seed: int = 0,
    device: torch.device | None = None,
    desc: str = "passcode",
) -> train.History:
    """Train G (N, 1 + bits, H, W) -> (N, 1, H, W) on ``faces`` (M, 1, H, W) with :func:`passcode_losses` for ``steps``
    steps of ``batch_size`` augmented faces and fresh random passcodes (Adam). Every term but the recovery is ramped up
    linearly over the first ``warmup`` steps; the learning rate decays linearly to 0 from ``decay_from * steps``.
    With a ``discriminator`` (faces -> score map) it is trained alongside with the LSGAN loss on real faces vs G(x, p).
    Prints wall time; returns the logged means of every loss (``total``, ``recovery``, ``wrong``, ``anonymity``,
    ``diversity``, ``identity``, ``gan`` and ``d_loss``, nan without a discriminator) as a ``train.History``."""
    validate.positive_int(steps, "steps")
    validate.positive_int(batch_size, "batch_size")
    validate.positive_int(bits, "bits")
    validate.positive_int(log_every, "log_every")
    if not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be a non-negative int (0: no warm-up), got {warmup!r}")
    if not 0 <= decay_from <= 1:
        raise ValueError(f"decay_from must lie in [0, 1] (a fraction of the steps; 1: no decay), got {decay_from}")
    validate.images(faces, "faces")
    dev = device or settings.device()
    rng = torch.Generator().manual_seed(seed)
    faces = faces.to(dev)
    generator.to(dev).train()
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=betas)
    decay_start = min(int(decay_from * steps), steps - 1)
    schedulers = [torch.optim.lr_scheduler.LambdaLR(opt_g, linear_decay(steps, decay_start))]
    opt_d = None
    if discriminator is not None:
        discriminator.to(dev).train()
        opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=betas)
        schedulers.append(torch.optim.lr_scheduler.LambdaLR(opt_d, linear_decay(steps, decay_start)))
    keys = ("total", "recovery", "wrong", "anonymity", "diversity", "identity", "gan", "d_loss")

    def one_step(step: int) -> dict[str, Tensor]:
        idx = torch.randint(0, len(faces), (batch_size,), generator=rng).to(dev)
        x = flip_and_shift(faces[idx], generator=rng) if augment else faces[idx]
        codes, codes2, wrong = random_passcodes(3 * batch_size, bits, rng).to(dev).split(batch_size)
        ramp = min(1.0, step / warmup) if warmup else 1.0
        logs = passcode_losses(generator, x, codes, codes2, wrong, weights, identity, discriminator, ramp)
        opt_g.zero_grad(set_to_none=True)
        logs["total"].backward()
        opt_g.step()
        logs["d_loss"] = torch.full((), float("nan"), device=dev)
        if discriminator is not None:
            real = faces[torch.randint(0, len(faces), (batch_size,), generator=rng).to(dev)]
            loss_d = lsgan_discriminator_loss(
                discriminator(flip_and_shift(real, generator=rng) if augment else real), discriminator(logs["y"])
            )
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            logs["d_loss"] = loss_d
        for scheduler in schedulers:
            scheduler.step()
        return {key: logs[key] for key in keys}

    return train.fit(one_step, steps, log_every, desc, device=dev)


# --------------------------------------------------------------------------- measuring
@torch.no_grad()
def recovery_errors(generator: nn.Module, faces: Tensor, codes: Tensor, wrong_codes: Tensor) -> dict[str, float]:
    """Mean L1 (per pixel, [-1, 1] images) over faces (N, C, H, W) with passcodes ``codes`` (N, B) and wrong passcodes
    ``wrong_codes`` (N, B): ``right`` |G(G(x, p), -p) - x|, ``wrong`` |G(G(x, p), -p') - x|, ``anonymised``
    |G(x, p) - x|, and ``ratio`` wrong / right. G runs in eval mode (restored after)."""
    validate.images(faces, "faces")
    _check_passcodes(codes, faces.shape[0])
    _check_passcodes(wrong_codes, faces.shape[0])
    if codes.shape != wrong_codes.shape:
        raise ValueError(
            f"codes and wrong_codes must have one shape, got {tuple(codes.shape)} and {tuple(wrong_codes.shape)}"
        )
    mode = generator.training
    generator.eval()
    try:
        faces = faces.to(next(generator.parameters()).device)
        y = anonymise(generator, faces, codes)
        right = F.l1_loss(recover(generator, y, codes), faces)
        wrong = F.l1_loss(recover(generator, y, wrong_codes), faces)
        anon = F.l1_loss(y, faces)
    finally:
        generator.train(mode)
    return {"right": float(right), "wrong": float(wrong), "anonymised": float(anon), "ratio": float(wrong / right)}
