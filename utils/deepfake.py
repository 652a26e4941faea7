"""Deepfake detection, small: generators of faces, a detector that tells real faces from generated ones, and how
it fares against a generator it never saw.

Faces are (N, 1, H, W) in [-1, 1] (``utils.data.face_images``). A detector maps faces to one logit (N, 1):
positive means "real".
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import deidentify, models, settings, train, validate


def upsample_generator(z_dim: int = 64, size: int = 32, channels: int = 1, width: int = 32) -> nn.Sequential:
    """Another generator family: noise (N, z_dim) -> images (N, channels, size, size) in [-1, 1] through a linear
    layer to a 4x4 map, then nearest-neighbour upsampling and 3x3 convolutions (no transposed convolutions)."""
    start, n = models._upsampling_plan(size)
    ch = width * 2 ** (n - 1)
    layers: list[nn.Module] = [
        nn.Linear(z_dim, ch * start * start),
        nn.Unflatten(1, (ch, start, start)),
        nn.BatchNorm2d(ch),
        nn.ReLU(),
    ]
    for _ in range(n):
        c_out = max(ch // 2, width // 2)
        layers += [
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(ch, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
        ]
        ch = c_out
    layers += [nn.Conv2d(ch, channels, 3, padding=1), nn.Tanh()]
    return nn.Sequential(*layers)


def face_sampler(faces: Tensor, seed: int = 0) -> Callable[[int], Tensor]:
    """A function n -> n real faces (n, 1, H, W) from faces (N, 1, H, W), randomly flipped and shifted by a pixel."""
    gen = torch.Generator().manual_seed(seed)

    def sample(n: int) -> Tensor:
        idx = torch.randint(len(faces), (n,), generator=gen)
        return deidentify.augment_faces(faces[idx], gen, shift=1, noise=0.0)

    return sample


@torch.no_grad()
def sample_fakes(generator: nn.Module, n: int, z_dim: int, seed: int = 0) -> Tensor:
    """n generated faces (n, C, H, W) on the CPU from fixed noise (seeded), with G in evaluation mode."""
    z = torch.randn(n, z_dim, generator=torch.Generator().manual_seed(seed))
    return train.generate_fixed(generator, z)


# >>> saved from notebooks/10_applications.ipynb (edit it there, then run `make save`) >>>
def detector_step(detector: nn.Module, optimiser: torch.optim.Optimizer, real: Tensor, fake: Tensor) -> Tensor:
    """One training step of a deepfake detector on real and fake images (N, C, H, W): binary cross-entropy on
    the logits (N, 1) with real labelled 1 and fake 0, averaged over all 2N images; returns the loss."""
    logits = detector(torch.cat([real, fake.detach()]))
    labels = torch.cat([torch.ones(len(real), 1), torch.zeros(len(fake), 1)]).to(logits)
    loss = F.binary_cross_entropy_with_logits(logits, labels)
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    return loss.detach()


def high_pass(x: Tensor) -> Tensor:
    """The fine detail of images x (N, C, H, W): x minus its 3x3 local mean (replicate padding) -> (N, C, H, W)."""
    return x - F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)


# <<< end of the code saved from notebooks/10_applications.ipynb <<<


class HighPass(nn.Module):
    """A fixed first layer for a detector: images (N, C, H, W) -> 4 * high_pass(images) (N, C, H, W)."""

    def forward(self, x: Tensor) -> Tensor:
        return 4 * high_pass(x)


def face_detector(high_pass_input: bool = True, width: int = 16) -> nn.Sequential:
    """A deepfake detector, faces (N, 1, 32, 32) -> logits (N, 1): a DCGAN discriminator (DCGAN-initialised), behind
    a :class:`HighPass` layer when ``high_pass_input``."""
    net = models.dcgan_discriminator(32, 1, width)
    net.apply(models.dcgan_init)
    return nn.Sequential(HighPass(), net) if high_pass_input else net


def train_detector(
    detector: nn.Module,
    real_faces: Tensor,
    fakes: Callable[[int], Tensor],
    steps: int,
    batch_size: int = 64,
    lr: float = 2e-4,
    seed: int = 0,
    log_every: int = 25,
    step_fn: Callable[..., Tensor] = detector_step,
    device: torch.device | None = None,
    desc: str = "detector",
) -> train.History:
    """Train ``detector`` with ``step_fn`` (default :func:`detector_step`) on real faces (N, 1, H, W) and fakes
    from ``fakes(n) -> (n, 1, H, W)``; both go through the same random augmentation (new "photos"), so lighting and
    noise cannot give a fake away. Adam; leaves it in eval mode; returns the logged ``loss`` as a ``train.History``."""
    deidentify._faces(real_faces, "real_faces")
    validate.positive_int(steps, "steps")
    dev = device or settings.device()
    gen = torch.Generator().manual_seed(seed)
    detector.to(dev).train()
    opt = torch.optim.Adam(detector.parameters(), lr=lr, betas=(0.5, 0.999))

    def one_step(step: int) -> dict[str, Tensor]:
        real = real_faces[torch.randint(len(real_faces), (batch_size,), generator=gen)]
        real = deidentify.augment_faces(real, gen).to(dev)
        fake = deidentify.augment_faces(fakes(batch_size).cpu(), gen).to(dev)
        return {"loss": step_fn(detector, opt, real, fake)}

    history = train.fit(one_step, steps, log_every, desc, device=dev)
    detector.eval()
    return history


@torch.no_grad()
def detection_accuracy(detector: nn.Module, real: Tensor, fake: Tensor) -> dict[str, float]:
    """How often the detector is right on real (N, 1, H, W) and fake (M, 1, H, W) images (logit > 0 means real):
    ``real`` (share called real), ``fake`` (share called fake) and ``overall`` (their mean, balanced)."""
    deidentify._faces(real, "real")
    deidentify._faces(fake, "fake")
    was = detector.training
    detector.eval()
    dev = next(detector.parameters()).device
    on_real = (detector(real.to(dev)) > 0).float().mean().item()
    on_fake = (detector(fake.to(dev)) <= 0).float().mean().item()
    detector.train(was)
    return {"real": on_real, "fake": on_fake, "overall": (on_real + on_fake) / 2}


# --------------------------------------------------------------------------- the shipped face generators
#: Noise size of the face generators.
FACE_Z = 64
#: The course's face generators (scripts/train_face_gans.py trains them): checkpoint name -> (family, seed).
FACE_GANS = {
    "face_gan_dcgan.pt": ("dcgan", 0),
    "face_gan_dcgan_seed1.pt": ("dcgan", 1),
    "face_gan_upsample.pt": ("upsample", 0),
}


def face_generator(family: str) -> nn.Sequential:
    """A 32x32 face generator, noise (N, FACE_Z) -> (N, 1, 32, 32): ``"dcgan"`` (transposed convolutions,
    ``models.dcgan_generator``) or ``"upsample"`` (:func:`upsample_generator`), DCGAN-initialised."""
    if family == "dcgan":
        net = models.dcgan_generator(FACE_Z, 32, 1, 32)
    elif family == "upsample":
        net = upsample_generator(FACE_Z, 32, 1, 32)
    else:
        raise ValueError(f"family must be 'dcgan' or 'upsample', got {family!r}")
    net.apply(models.dcgan_init)
    return net


def train_face_gan(
    generator: nn.Module, faces: Tensor, steps: int, seed: int = 0, batch_size: int = 64, desc: str = "face GAN"
) -> train.History:
    """Train a face generator against a DCGAN discriminator on faces (N, 1, 32, 32) (flipped, shifted) with
    ``train.train_gan`` (non-saturating loss, Adam lr 2e-4, betas (0.5, 0.999)); returns its history."""
    torch.manual_seed(seed)
    disc = models.dcgan_discriminator(32, 1, 32)
    disc.apply(models.dcgan_init)
    return train.train_gan(
        generator, disc, face_sampler(faces, seed), steps, FACE_Z, batch_size=batch_size, lr=2e-4, desc=desc
    )
