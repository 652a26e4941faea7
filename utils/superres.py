"""Single-image super-resolution x4 (notebook 06): LR/HR crops of the bundled photos, the bicubic baseline, PSNR and a
sharpness measure, a small SRResNet-style generator, a conditional patch discriminator, one training step and a loop.

Images are (N, 3, H, W) in [-1, 1]. A low-resolution (LR) image is its high-resolution (HR) original averaged over
``scale`` x ``scale`` blocks (area downsampling); a model maps LR (N, 3, h, w) to SR (N, 3, scale h, scale w).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import data, losses, settings, train, validate

#: The upscaling factor of the notebook.
SCALE = 4
#: The photo kept out of training: every score of notebook 06 is measured on crops of it alone.
HELD_OUT = "astronaut"
#: The photos the models train on (all bundled photos but the held-out one).
TRAIN_PHOTOS = tuple(p for p in data.PHOTOS if p != HELD_OUT)


# --------------------------------------------------------------------------- LR/HR data
def downsample(hr: Tensor, scale: int = SCALE) -> Tensor:
    """Area downsampling: HR images (N, C, H, W) -> LR (N, C, H / scale, W / scale), each pixel a block's mean."""
    validate.images(hr, "hr", check_range=False)
    validate.positive_int(scale, "scale")
    if hr.shape[-1] % scale or hr.shape[-2] % scale:
        raise ValueError(f"the HR size {tuple(hr.shape[-2:])} is not a multiple of scale = {scale}")
    return F.avg_pool2d(hr, scale)


@cache
def _photo(name: str) -> Tensor:
    """A bundled photo (3, H, W) in [-1, 1] at its stored resolution, decoded once; callers must not modify it."""
    return data.bundled_image(name)


def _check_photos(photos: tuple[str, ...]) -> tuple[str, ...]:
    """Check a non-empty tuple of bundled photo names."""
    if not isinstance(photos, tuple) or not photos or any(p not in data.PHOTOS for p in photos):
        raise ValueError(f"photos must be a non-empty tuple of bundled photos from {data.PHOTOS}, got {photos!r}")
    return photos


def random_crops(
    n: int, size: int = 64, photos: tuple[str, ...] = TRAIN_PHOTOS, generator: torch.Generator | None = None
) -> Tensor:
    """n random HR crops (n, 3, size, size) in [-1, 1] of the photos at their stored resolution, half of them flipped
    left-right; the photo, the position and the flip are drawn from ``generator``."""
    validate.positive_int(n, "n")
    validate.positive_int(size, "size")
    full = [_photo(p) for p in _check_photos(photos)]
    which = torch.randint(len(full), (n,), generator=generator).tolist()
    u = torch.rand(n, 3, generator=generator).tolist()
    out = torch.empty(n, 3, size, size)
    for i, (k, (fy, fx, flip)) in enumerate(zip(which, u)):
        img = full[k]
        h, w = img.shape[-2:]
        top, left = int(fy * (h - size + 1)), int(fx * (w - size + 1))
        crop = img[:, top : top + size, left : left + size]
        out[i] = crop.flip(-1) if flip < 0.5 else crop
    return out


def crop_sampler(
    size: int = 64, photos: tuple[str, ...] = TRAIN_PHOTOS, seed: int = 0, scale: int = SCALE
) -> Callable[[int], tuple[Tensor, Tensor]]:
    """A function n -> (lr (n, 3, size / scale, size / scale), hr (n, 3, size, size)) of fresh random crops of the
    photos (:func:`random_crops`), the same sequence for the same seed."""
    validate.positive_int(size, "size")
    if size % scale:
        raise ValueError(f"size {size} must be a multiple of scale = {scale}")
    gen = torch.Generator().manual_seed(seed)

    def sample(n: int) -> tuple[Tensor, Tensor]:
        hr = random_crops(n, size, photos, gen)
        return downsample(hr, scale), hr

    return sample


def tiles(name: str = HELD_OUT, size: int = 64, scale: int = SCALE) -> tuple[Tensor, Tensor]:
    """Every non-overlapping size x size tile of one photo, row by row: (lr (T, 3, size / scale, size / scale),
    hr (T, 3, size, size)); the held-out test set of notebook 06."""
    validate.positive_int(size, "size")
    if size % scale:
        raise ValueError(f"size {size} must be a multiple of scale = {scale}")
    img = _photo(_check_photos((name,))[0])
    h, w = img.shape[-2:]
    hr = img[:, : h // size * size, : w // size * size].unfold(1, size, size).unfold(2, size, size)
    hr = hr.permute(1, 2, 0, 3, 4).reshape(-1, 3, size, size).contiguous()
    return downsample(hr, scale), hr


# --------------------------------------------------------------------------- the baseline and the measures
# >>> saved from notebooks/06_super_resolution.ipynb (edit it there, then run `make save`) >>>
def bicubic_upsample(lr: Tensor, scale: int = SCALE) -> Tensor:
    """The baseline: bicubic interpolation of LR images (N, C, h, w) -> (N, C, scale h, scale w), clamped to [-1, 1]."""
    validate.images(lr, "lr", check_range=False)
    return F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)


def psnr(x: Tensor, y: Tensor) -> Tensor:
    """Peak signal-to-noise ratio in dB of images x against y, both (N, C, H, W) in [-1, 1]: one value per image (N,).

    PSNR = 10 log10(peak^2 / MSE) with peak = 2, the range of [-1, 1] (the same as 1 for images in [0, 1]).
    """
    validate.images(x, "x", check_range=False)
    validate.images(y, "y", check_range=False)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have one shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    mse = (x.float() - y.float()).square().flatten(1).mean(dim=1)
    return 10 * torch.log10(4.0 / mse.clamp_min(1e-12))


def sharpness(x: Tensor) -> Tensor:
    """Mean gradient magnitude of images (N, C, H, W): the mean over pixels and channels of
    sqrt(dx^2 + dy^2) with forward differences (one value per image, (N,)). Blur lowers it."""
    validate.images(x, "x", check_range=False)
    dx = x[..., :-1, 1:] - x[..., :-1, :-1]
    dy = x[..., 1:, :-1] - x[..., :-1, :-1]
    return (dx.square() + dy.square()).sqrt().flatten(1).mean(dim=1)


class ResidualBlock(nn.Module):
    """conv 3x3 -> ReLU -> conv 3x3, added to its input: features (N, C, h, w) -> (N, C, h, w)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1)
        )

    def forward(self, h: Tensor) -> Tensor:
        return h + self.body(h)


class SRResNet(nn.Module):
    """A small SRResNet (Ledig et al., 2017) for x4: LR (N, 3, h, w) -> SR (N, 3, 4h, 4w).

    Features at LR (a conv, ``blocks`` residual blocks, a long skip), two x2 upsamplers (conv to 4x the channels,
    pixel shuffle, ReLU), a last conv; the network predicts the *residual* over the bicubic upsampling, and the
    last conv starts at zero, so an untrained network *is* the bicubic baseline.
    """

    def __init__(self, width: int = 32, blocks: int = 4) -> None:
        super().__init__()
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)])
        self.up = nn.Sequential(
            nn.Conv2d(width, 4 * width, 3, padding=1),
            nn.PixelShuffle(2),
            nn.ReLU(),  # (N, width, 2h, 2w)
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.PixelShuffle(2),
            nn.ReLU(),  # (N, width / 2, 4h, 4w)
        )
        self.tail = nn.Conv2d(width // 2, 3, 3, padding=1)
        nn.init.zeros_(self.tail.weight)  # start as the bicubic baseline: training can only add detail to it
        nn.init.zeros_(self.tail.bias)

    def forward(self, lr: Tensor) -> Tensor:
        validate.images(lr, "lr", check_range=False)
        h = self.head(lr)
        h = h + self.body(h)
        return bicubic_upsample(lr) + self.tail(self.up(h))


PIXEL_LOSSES = {"l2": F.mse_loss, "l1": F.l1_loss}


def sr_discriminator(width: int = 32) -> nn.Sequential:
    """A conditional patch discriminator: (bicubic(LR) | image), (N, 6, H, W) -> patch logits (N, 1, H / 4, W / 4).

    Three 4x4 convs (strides 2, 2, 1) with LeakyReLU(0.2), then a 3x3 conv to one logit per patch.
    """
    return nn.Sequential(
        nn.Conv2d(6, width, 4, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(2 * width, 2 * width, 3, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(2 * width, 1, 3, padding=1),
    )


def d_input(lr: Tensor, image: Tensor) -> Tensor:
    """What the conditional D sees: the bicubic upsampling of LR (N, 3, h, w) stacked on an HR or SR image
    (N, 3, 4h, 4w) -> (N, 6, 4h, 4w): D judges whether the image is a real answer *to this LR input*."""
    return torch.cat([bicubic_upsample(lr, image.shape[-1] // lr.shape[-1]), image], dim=1)


def sr_step(
    generator: nn.Module,
    discriminator: nn.Module | None,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer | None,
    batch: tuple[Tensor, Tensor],
    pixel: str = "l1",
    adv_weight: float = 0.0,
) -> dict[str, float]:
    """One step on batch = (lr (N, 3, h, w), hr (N, 3, 4h, 4w)): with ``adv_weight > 0`` first a D step on the
    conditional pairs (real: hr, fake: G(lr)), then a G step on pixel(G(lr), hr) + adv_weight * non-saturating GAN loss.

    Returns floats ``pixel`` (G's pixel loss), ``g_adv`` and ``d_loss`` (nan without a GAN).
    """
    if pixel not in PIXEL_LOSSES:
        raise ValueError(f"pixel must be one of {list(PIXEL_LOSSES)}, got {pixel!r}")
    lr, hr = batch
    sr = generator(lr)
    loss_d = g_adv = torch.full((), float("nan"))
    loss_g = PIXEL_LOSSES[pixel](sr, hr)
    logs = {"pixel": float(loss_g.detach())}
    if adv_weight > 0:
        if discriminator is None or opt_d is None:
            raise ValueError("adv_weight > 0 needs a discriminator and its optimiser")
        loss_d = losses.discriminator_loss(discriminator(d_input(lr, hr)), discriminator(d_input(lr, sr.detach())))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        g_adv = losses.generator_loss_nonsaturating(discriminator(d_input(lr, sr)))
        loss_g = loss_g + adv_weight * g_adv
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    logs.update(g_adv=float(g_adv.detach()), d_loss=float(loss_d.detach()))
    return logs


# <<< end of the code saved from notebooks/06_super_resolution.ipynb <<<


# --------------------------------------------------------------------------- training
def train_sr(
    generator: nn.Module,
    sample: Callable[[int], tuple[Tensor, Tensor]],
    steps: int,
    pixel: str = "l1",
    discriminator: nn.Module | None = None,
    adv_weight: float = 0.0,
    batch_size: int = 16,
    lr: float = 1e-3,
    lr_d: float = 1e-4,
    log_every: int = 25,
    device: torch.device | None = None,
    desc: str = "SR",
) -> train.History:
    """Train G (and D when ``adv_weight > 0``) with :func:`sr_step` on batches ``sample(batch_size)`` = (lr, hr).

    Adam (betas 0.9, 0.999 for G; 0.5, 0.999 for D) with G's learning rate decayed along a cosine to 0 over ``steps``.
    Prints steps, wall time and ms/step; returns the logged means of ``pixel``, ``g_adv`` and ``d_loss`` (nan
    without a GAN) as a ``train.History``; leaves G in eval mode.
    """
    validate.positive_int(steps, "steps")
    validate.positive_int(batch_size, "batch_size")
    validate.positive_int(log_every, "log_every")
    dev = device or settings.device()
    generator.to(dev).train()
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt_g, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    opt_d = None
    if adv_weight > 0:
        if discriminator is None:
            raise ValueError("adv_weight > 0 needs a discriminator")
        discriminator.to(dev).train()
        opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=(0.5, 0.999))

    def one_step(step: int) -> dict[str, float]:
        lr_img, hr = sample(batch_size)
        logs = sr_step(generator, discriminator, opt_g, opt_d, (lr_img.to(dev), hr.to(dev)), pixel, adv_weight)
        schedule.step()
        return logs

    history = train.fit(one_step, steps, log_every, desc, device=dev)
    generator.eval()
    return history


# --------------------------------------------------------------------------- evaluation
@torch.no_grad()
def super_resolve(model: nn.Module | Callable[[Tensor], Tensor], lr: Tensor, batch_size: int = 64) -> Tensor:
    """Run a model (or a function such as :func:`bicubic_upsample`) on LR images (N, 3, h, w) in batches, in eval mode
    and on the model's device; returns SR (N, 3, 4h, 4w) on the CPU, clamped to [-1, 1]."""
    validate.images(lr, "lr")
    dev = torch.device("cpu")
    if isinstance(model, nn.Module):
        model.eval()
        dev = next(model.parameters()).device
    return torch.cat([model(lr[i : i + batch_size].to(dev)).cpu() for i in range(0, len(lr), batch_size)]).clamp(-1, 1)


def evaluate(model: nn.Module | Callable[[Tensor], Tensor], lr: Tensor, hr: Tensor) -> dict[str, float]:
    """Score a model on test pairs lr (N, 3, h, w), hr (N, 3, 4h, 4w): mean ``psnr`` (dB) over the images and
    ``sharpness``, the mean gradient magnitude of the outputs over that of the HR truth (1 = as sharp as the truth)."""
    sr = super_resolve(model, lr)
    return {"psnr": float(psnr(sr, hr).mean()), "sharpness": float(sharpness(sr).mean() / sharpness(hr).mean())}


# --------------------------------------------------------------------------- notebook 06's recipe
#: The three trained models of notebook 06, in order.
MODELS = ("L2", "L1", "L1 + adversarial")


def recipe() -> dict:
    """Notebook 06's settings (crop size, steps, loss weights), smaller in quick mode: one place for the notebook
    and ``scripts/measure_superres.py``."""
    return {
        "size": settings.pick(learner=64, quick=32),
        "width": 32,
        "blocks": 4,
        "batch_size": 16,
        "pixel_steps": settings.pick(learner=1000, quick=150),
        "lr": 1e-3,
        "gan_steps": settings.pick(learner=300, quick=40),
        "adv_weight": 0.1,
        "gan_lr": 2e-4,
        "gan_lr_d": 4e-4,
    }


def train_models(
    seed: int, config: dict | None = None, threads: int | None = None, device: torch.device | None = None
) -> tuple[dict[str, nn.Module], dict[str, train.History]]:
    """Train notebook 06's three models from one seed: G with L2 and G with L1 (same initial weights, same crops),
    then a copy of the L1 model fine-tuned with L1 + adversarial loss. Returns models and histories keyed by MODELS."""
    import copy

    c = config or recipe()
    models, histories = {}, {}
    for name, pixel in (("L2", "l2"), ("L1", "l1")):
        settings.seed_everything(seed, threads)
        models[name] = SRResNet(c["width"], c["blocks"])
        histories[name] = train_sr(
            models[name],
            crop_sampler(c["size"], seed=seed),
            c["pixel_steps"],
            pixel=pixel,
            batch_size=c["batch_size"],
            lr=c["lr"],
            device=device,
            desc=f"{name} (seed {seed})",
        )
    settings.seed_everything(seed + 1000, threads)
    models[MODELS[2]] = copy.deepcopy(models["L1"])
    histories[MODELS[2]] = train_sr(
        models[MODELS[2]],
        crop_sampler(c["size"], seed=seed + 1000),
        c["gan_steps"],
        pixel="l1",
        discriminator=sr_discriminator(),
        adv_weight=c["adv_weight"],
        batch_size=c["batch_size"],
        lr=c["gan_lr"],
        lr_d=c["gan_lr_d"],
        device=device,
        desc=f"{MODELS[2]} (seed {seed})",
    )
    return models, histories
