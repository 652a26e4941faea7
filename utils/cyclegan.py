"""Unpaired image-to-image translation (CycleGAN, Zhu et al., 2017): the ResNet-block generator, the LSGAN losses,
cycle consistency in both directions, the identity loss, the 50-image history pool, linear learning-rate decay, one
training step and a training loop. The discriminators are :func:`utils.pix2pix.patchgan_discriminator` with instance
norm.

Two domains A and B, two generators ``g_ab`` (A -> B) and ``g_ba`` (B -> A), two discriminators ``d_a`` (real A vs
``g_ba(b)``) and ``d_b`` (real B vs ``g_ab(a)``). Images are (N, C, H, W) in [-1, 1].
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import settings, train, validate
from .pix2pix import NORMS, patchgan_discriminator


# --------------------------------------------------------------------------- the ResNet-block generator
# >>> saved from notebooks/07_cyclegan.ipynb (edit it there, then run `make save`) >>>
class ResnetBlock(nn.Module):
    """x + conv-norm-ReLU-conv-norm(x) on (N, C, H, W), with reflection padding: the block learns a change to x."""

    def __init__(self, channels: int, norm: str = "instance") -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=norm == "none"),
            NORMS[norm](channels),
            nn.ReLU(),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=norm == "none"),
            NORMS[norm](channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def resnet_generator(
    in_channels: int = 3,
    out_channels: int = 3,
    width: int = 64,
    n_blocks: int = 9,
    n_down: int = 2,
    norm: str = "instance",
) -> nn.Sequential:
    """CycleGAN's G: (N, in_channels, H, W) -> (N, out_channels, H, W) in [-1, 1], H and W divisible by 2**n_down.

    c7s1-64, n_down stride-2 convolutions (d128, d256), ``n_blocks`` residual blocks at the lowest resolution,
    n_down transposed convolutions back up (u128, u64), c7s1-3 and tanh; instance norm and ReLU throughout.
    The paper uses 9 blocks at 256x256 and 6 at 128x128.
    """
    for name, value in (
        ("in_channels", in_channels),
        ("out_channels", out_channels),
        ("width", width),
        ("n_blocks", n_blocks),
    ):
        validate.positive_int(value, name)
    if not isinstance(n_down, int) or n_down < 0:
        raise ValueError(f"n_down must be a non-negative int, got {n_down!r}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {tuple(NORMS)}, got {norm!r}")
    bias = norm == "none"  # a bias before instance norm is cancelled by the mean subtraction
    layers: list[nn.Module] = [
        nn.ReflectionPad2d(3),
        nn.Conv2d(in_channels, width, 7, bias=bias),
        NORMS[norm](width),
        nn.ReLU(),
    ]
    c = width
    for _ in range(n_down):
        layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=bias), NORMS[norm](2 * c), nn.ReLU()]
        c *= 2
    layers += [ResnetBlock(c, norm) for _ in range(n_blocks)]
    for _ in range(n_down):
        layers += [
            nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
            NORMS[norm](c // 2),
            nn.ReLU(),
        ]
        c //= 2
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_channels, 7), nn.Tanh()]
    net = nn.Sequential(*layers)
    net.apply(cyclegan_init)
    return net


def lsgan_discriminator_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """Least-squares D loss on score maps (N, 1, H', W'): ½[mean (D(real) − 1)² + mean D(fake)²]."""
    return 0.5 * (
        F.mse_loss(real_scores, torch.ones_like(real_scores)) + F.mse_loss(fake_scores, torch.zeros_like(fake_scores))
    )


def lsgan_generator_loss(fake_scores: Tensor) -> Tensor:
    """Least-squares G loss on D's scores (N, 1, H', W') for generated images: mean (D(G(x)) − 1)²."""
    return F.mse_loss(fake_scores, torch.ones_like(fake_scores))


def cycle_loss(real_a: Tensor, rec_a: Tensor, real_b: Tensor, rec_b: Tensor) -> Tensor:
    r"""Cycle consistency both ways: $\mathbb{E}\lVert F(G(a)) - a \rVert_1 + \mathbb{E}\lVert G(F(b)) - b \rVert_1$.

    Images (N, C, H, W); G = g_ab and F = g_ba, so rec_a = F(G(a)) and rec_b = G(F(b)) are the round trips.
    """
    return F.l1_loss(rec_a, real_a) + F.l1_loss(rec_b, real_b)


def identity_loss(real_a: Tensor, same_a: Tensor, real_b: Tensor, same_b: Tensor) -> Tensor:
    """Identity loss: mean |g_ba(a) − a| + mean |g_ab(b) − b|: a generator fed its own output domain leaves it alone."""
    return F.l1_loss(same_a, real_a) + F.l1_loss(same_b, real_b)


class ImagePool:
    """The discriminators' history of generated images (Shrivastava et al., 2017): until ``size`` images are stored,
    each new image is stored and returned; after that, each new image is, with probability ½, swapped for a random
    stored one (the stored one is returned, the new one takes its place), otherwise returned as it is."""

    def __init__(self, size: int = 50, seed: int = 0) -> None:
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"size must be a non-negative int (0 turns the pool off), got {size!r}")
        self.size = size
        self.images: list[Tensor] = []
        self.rng = random.Random(seed)

    def query(self, images: Tensor) -> Tensor:
        """A detached batch (N, C, H, W) of the same shape, each image new or from the history; stores copies."""
        if self.size == 0:
            return images.detach()
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif self.rng.random() < 0.5:
                i = self.rng.randrange(self.size)
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)


def linear_decay(steps: int, decay_from: int) -> Callable[[int], float]:
    """The learning-rate factor for ``LambdaLR``: 1 up to step ``decay_from``, then linearly down to 0 at ``steps``."""
    validate.positive_int(steps, "steps")
    if not 0 <= decay_from < steps:
        raise ValueError(f"decay_from must lie in [0, steps), got {decay_from} with steps={steps}")
    return lambda step: 1.0 - max(0, step - decay_from) / (steps - decay_from)


def cyclegan_step(
    nets: CycleGAN,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real_a: Tensor,
    real_b: Tensor,
    pool_a: ImagePool,
    pool_b: ImagePool,
    lambda_cycle: float = 10.0,
    lambda_identity: float = 0.5,
) -> dict[str, Tensor]:
    """One CycleGAN step on unpaired batches a (N, C_a, H, W) and b (N, C_b, H, W): both generators, then both
    discriminators (on images from the pools). The identity loss weighs ``lambda_identity * lambda_cycle``, as in
    the paper's code, so ``lambda_cycle=0`` leaves the adversarial losses alone (the no-cycle ablation).
    Returns detached scalar tensors ``d_a``, ``d_b``, ``g_gan``, ``cycle`` (logged even when it is not trained) and
    ``identity`` (call ``float`` only when logging: no GPU sync per step)."""
    fake_b, fake_a = nets.g_ab(real_a), nets.g_ba(real_b)
    # Generators: fool both discriminators (held fixed), come back to the start, leave their own domain alone.
    for d in (nets.d_a, nets.d_b):
        d.requires_grad_(False)
    gan = lsgan_generator_loss(nets.d_b(fake_b)) + lsgan_generator_loss(nets.d_a(fake_a))
    loss_g = gan
    if lambda_cycle > 0:
        cyc = cycle_loss(real_a, nets.g_ba(fake_b), real_b, nets.g_ab(fake_a))
        loss_g = loss_g + lambda_cycle * cyc
    else:
        with torch.no_grad():
            cyc = cycle_loss(real_a, nets.g_ba(fake_b), real_b, nets.g_ab(fake_a))
    idt = torch.zeros((), device=real_a.device)
    if lambda_identity > 0 and lambda_cycle > 0:
        idt = identity_loss(real_a, nets.g_ba(real_a), real_b, nets.g_ab(real_b))
        loss_g = loss_g + lambda_identity * lambda_cycle * idt
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    # Discriminators: real up, generated (from the history pools) down.
    for d in (nets.d_a, nets.d_b):
        d.requires_grad_(True)
    loss_d_a = lsgan_discriminator_loss(nets.d_a(real_a), nets.d_a(pool_a.query(fake_a)))
    loss_d_b = lsgan_discriminator_loss(nets.d_b(real_b), nets.d_b(pool_b.query(fake_b)))
    opt_d.zero_grad(set_to_none=True)
    (loss_d_a + loss_d_b).backward()
    opt_d.step()
    return {
        "d_a": loss_d_a.detach(),
        "d_b": loss_d_b.detach(),
        "g_gan": gan.detach(),
        "cycle": cyc.detach(),
        "identity": idt.detach(),
    }


# <<< end of the code saved from notebooks/07_cyclegan.ipynb <<<


def cyclegan_init(module: nn.Module) -> None:
    """The reference code's init, for ``net.apply``: convolution weights ~ N(0, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def cyclegan_discriminator(channels: int = 3, width: int = 64, n_layers: int = 3) -> nn.Sequential:
    """CycleGAN's D: images (N, channels, H, W) -> a map of scores (N, 1, H', W'): an unconditional PatchGAN
    (70x70 patches for n_layers=3) with instance norm, its scores read by the least-squares loss."""
    net = patchgan_discriminator(channels, width, n_layers, norm="instance")
    net.apply(cyclegan_init)
    return net


# --------------------------------------------------------------------------- the losses


# --------------------------------------------------------------------------- the history pool and the schedule


# --------------------------------------------------------------------------- one step and the loop
@dataclass
class CycleGAN:
    """The four networks: generators ``g_ab`` (A -> B), ``g_ba`` (B -> A); discriminators ``d_a``, ``d_b``."""

    g_ab: nn.Module
    g_ba: nn.Module
    d_a: nn.Module
    d_b: nn.Module

    def generators(self) -> list[nn.Parameter]:
        """Both generators' parameters (they share one optimiser, as in the paper's code)."""
        return [*self.g_ab.parameters(), *self.g_ba.parameters()]

    def discriminators(self) -> list[nn.Parameter]:
        """Both discriminators' parameters."""
        return [*self.d_a.parameters(), *self.d_b.parameters()]

    def to(self, device: torch.device) -> CycleGAN:
        """Move all four networks to ``device``; returns self."""
        for net in (self.g_ab, self.g_ba, self.d_a, self.d_b):
            net.to(device)
        return self


def image_sampler(
    data: Tensor | torch.utils.data.TensorDataset | Callable[[int], Tensor], seed: int = 0
) -> Callable[[int], Tensor]:
    """A function n -> images (n, C, H, W) drawn without replacement within each pass over ``data`` (a tensor of
    images, a TensorDataset whose first tensor holds them, or such a function, returned as it is)."""
    if callable(data) and not isinstance(data, (Tensor, torch.utils.data.Dataset)):
        return data
    images = data.tensors[0] if isinstance(data, torch.utils.data.TensorDataset) else data
    if not isinstance(images, Tensor) or images.dim() != 4 or len(images) == 0:
        raise TypeError("data must be images (N, C, H, W), a TensorDataset of them, or a function n -> images")
    gen = torch.Generator().manual_seed(seed)
    order: list[int] = []

    def sample(n: int) -> Tensor:
        validate.positive_int(n, "n")
        while len(order) < n:
            order.extend(torch.randperm(len(images), generator=gen).tolist())
        idx = order[:n]
        del order[:n]
        return images[idx]

    return sample


def train_cyclegan(
    nets: CycleGAN,
    data_a: Tensor | torch.utils.data.TensorDataset | Callable[[int], Tensor],
    data_b: Tensor | torch.utils.data.TensorDataset | Callable[[int], Tensor],
    steps: int,
    batch_size: int = 1,
    lr: float = 2e-4,
    betas: tuple[float, float] = (0.5, 0.999),
    lambda_cycle: float = 10.0,
    lambda_identity: float = 0.5,
    pool_size: int = 50,
    decay_from: int | None = None,
    log_every: int = 25,
    callback: Callable[[int, CycleGAN], None] | None = None,
    callback_every: int = 250,
    seed: int = 0,
    device: torch.device | None = None,
    desc: str = "CycleGAN",
) -> train.History:
    """Train the four networks with :func:`cyclegan_step` for ``steps`` steps on unpaired batches from ``data_a``
    and ``data_b`` (see :func:`image_sampler`): Adam (lr 2e-4, betas (0.5, 0.999)), the learning rate constant until
    ``decay_from`` (default: half way) and then linearly down to 0, a history pool of ``pool_size`` images per
    discriminator, the loss weights as in :func:`cyclegan_step`. ``callback(step, nets)`` runs
    before training and every ``callback_every`` steps.
    Prints steps, wall time and ms/step; returns the logged losses."""
    validate.positive_int(steps, "steps")
    validate.positive_int(batch_size, "batch_size")
    validate.positive_int(log_every, "log_every")
    if lambda_cycle < 0 or lambda_identity < 0:
        raise ValueError(
            f"the loss weights must be >= 0, got lambda_cycle={lambda_cycle}, lambda_identity={lambda_identity}"
        )
    sample_a, sample_b = image_sampler(data_a, seed), image_sampler(data_b, seed + 1)
    dev = device or settings.device()
    nets.to(dev)
    for net in (nets.g_ab, nets.g_ba, nets.d_a, nets.d_b):
        net.train()
    opt_g = torch.optim.Adam(nets.generators(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(nets.discriminators(), lr=lr, betas=betas)
    decay = linear_decay(steps, steps // 2 if decay_from is None else decay_from)
    schedules = [torch.optim.lr_scheduler.LambdaLR(opt, decay) for opt in (opt_g, opt_d)]
    pool_a, pool_b = ImagePool(pool_size, seed), ImagePool(pool_size, seed + 1)

    def one_step(step: int) -> dict[str, Tensor | float]:
        real_a, real_b = sample_a(batch_size).to(dev), sample_b(batch_size).to(dev)
        logs = cyclegan_step(nets, opt_g, opt_d, real_a, real_b, pool_a, pool_b, lambda_cycle, lambda_identity)
        logs["lr"] = opt_g.param_groups[0]["lr"]  # the rate this step used
        for schedule in schedules:
            schedule.step()
        return logs

    snapshot = None if callback is None else lambda step: callback(step, nets)
    history = train.fit(one_step, steps, log_every, desc, snapshot, callback_every, dev)
    for net in (nets.g_ab, nets.g_ba, nets.d_a, nets.d_b):
        net.eval()
    return history


@torch.no_grad()
def translate(generator: nn.Module, images: Tensor, batch_size: int = 256) -> Tensor:
    """``generator`` applied in eval mode to images (N, C, H, W), in batches, on the generator's device; returns
    (N, C', H, W) on the CPU (instance norm uses each image's own statistics, so eval and train agree)."""
    was_training = generator.training
    generator.eval()
    dev = next(generator.parameters()).device
    out = torch.cat([generator(images[i : i + batch_size].to(dev)).cpu() for i in range(0, len(images), batch_size)])
    generator.train(was_training)
    return out
