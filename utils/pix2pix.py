"""Image-to-image translation (pix2pix, Isola et al., 2017): the U-Net generator, the PatchGAN discriminator and its
receptive field, the conditional pair D sees, the losses L_cGAN + lambda L_L1, one training step and a training loop.

Images are (N, C, H, W) in [-1, 1]; a pair is (a, b): the input image a (e.g. a label map) and its target b (the photo).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from . import losses, models, settings, train, validate


# --------------------------------------------------------------------------- the U-Net generator
# >>> saved from notebooks/05_pix2pix.ipynb (edit it there, then run `make save`) >>>
def skip_connection(decoder: Tensor, encoder: Tensor) -> Tensor:
    """The U-Net skip: decoder features (N, C_dec, H, W) and the encoder features (N, C_enc, H, W) of the same size
    -> (N, C_dec + C_enc, H, W), concatenated along the channels (decoder first)."""
    if decoder.shape[0] != encoder.shape[0] or decoder.shape[2:] != encoder.shape[2:]:
        raise ValueError(
            f"a skip joins features of one batch and one size: decoder {tuple(decoder.shape)} "
            f"and encoder {tuple(encoder.shape)} differ in N, H or W"
        )
    return torch.cat([decoder, encoder], dim=1)


def receptive_field(layers: nn.Sequential | Sequence) -> int:
    """Side in pixels of the input patch one output pixel sees, for convolutions applied in order: ``layers`` is an
    nn.Sequential or list of modules (Conv2d and pooling count, activations and norms do not) or (kernel, stride) pairs.

    From one output pixel walk back to the input: r = 1, then r = (r - 1) * stride + kernel for each layer, last first.
    """
    pairs: list[tuple[int, int]] = []
    for layer in layers:
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s = (layer.kernel_size, layer.stride)
            k, s = (k if isinstance(k, int) else k[0]), (s if isinstance(s, int) else s[0])
            d = getattr(layer, "dilation", 1)
            d = d if isinstance(d, int) else d[0]
            pairs.append((d * (k - 1) + 1, s))
        elif isinstance(layer, (nn.ConvTranspose2d, nn.Upsample)):
            raise ValueError(f"receptive_field counts downsampling stacks only, got {type(layer).__name__}")
        elif isinstance(layer, nn.Module):
            continue  # activations, batch norm, dropout: one pixel in, one pixel out
        elif (
            isinstance(layer, (tuple, list))
            and len(layer) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in layer)
        ):
            pairs.append((layer[0], layer[1]))
        else:
            raise TypeError(f"layers must hold nn.Modules or (kernel, stride) pairs of positive ints, got {layer!r}")
    r = 1
    for k, s in reversed(pairs):
        r = (r - 1) * s + k
    return r


def conditional_pair(a: Tensor, b: Tensor) -> Tensor:
    """What the conditional D sees: the input a (N, C_a, H, W) paired with an output b (N, C_b, H, W), real or
    generated -> (N, C_a + C_b, H, W), stacked along the channels (input first)."""
    validate.tensor(a, "a")
    validate.tensor(b, "b")
    if a.dim() != 4 or b.dim() != 4 or a.shape[0] != b.shape[0] or a.shape[2:] != b.shape[2:]:
        raise ValueError(
            f"a and b must be image batches (N, C, H, W) of one N, H and W, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    return torch.cat([a, b], dim=1)


def pix2pix_generator_loss(
    d_fake_logits: Tensor | None,
    fake: Tensor,
    target: Tensor,
    lambda_l1: float = 100.0,
    use_gan: bool = True,
    use_l1: bool = True,
) -> tuple[Tensor, Tensor, Tensor]:
    r"""G's loss $\mathcal{L}_{cGAN} + \lambda \mathcal{L}_{L1}$ -> (total, gan_term, l1_term), three scalars.

    $\mathcal{L}_{cGAN} = -\mathbb{E}\log D(a, G(a))$ over every patch (non-saturating, from D's logits
    (N, 1, H', W')); $\mathcal{L}_{L1} = \mathbb{E}\,\lvert b - G(a) \rvert$ over fake and target (N, C, H, W).
    A term whose flag is False is left out of the total (gan_term is 0 without a GAN).
    """
    validate.same_shape(fake, target, "fake", "target")
    validate.loss_terms(use_gan, use_l1, d_fake_logits)
    l1 = (fake - target).abs().mean()
    gan = losses.generator_loss_nonsaturating(d_fake_logits) if use_gan else fake.new_zeros(())
    total = (gan if use_gan else 0) + (lambda_l1 * l1 if use_l1 else 0)
    return total, gan, l1


def pix2pix_step(
    generator: nn.Module,
    discriminator: nn.Module | None,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer | None,
    batch: tuple[Tensor, Tensor],
    lambda_l1: float = 100.0,
    use_gan: bool = True,
    use_l1: bool = True,
    conditional: bool = True,
) -> dict[str, float]:
    """One pix2pix step on batch = (a (N, C_a, H, W), b (N, C_b, H, W)): a D step, then a G step.

    ``conditional=False`` lets D see the output alone (the unconditional GAN + L1 ablation; D takes C_b channels);
    ``use_gan=False`` skips D entirely (L1 only; D and opt_d may be None); ``use_l1=False`` is the cGAN alone.
    Returns floats ``d_loss`` (nan without a GAN), ``g_loss`` (the total), ``g_gan`` and ``l1`` (logged either way).
    """
    a, b = batch
    fake = generator(a)

    def d_input(out: Tensor) -> Tensor:
        return conditional_pair(a, out) if conditional else out

    loss_d = torch.full((), float("nan"))
    d_fake_logits = None
    if use_gan:
        if discriminator is None or opt_d is None:
            raise ValueError("use_gan=True needs a discriminator and its optimiser")
        # D: real pairs (a, b) up, generated pairs (a, G(a)) down; detach so this step leaves G alone.
        loss_d = pix2pix_discriminator_loss(discriminator(d_input(b)), discriminator(d_input(fake.detach())))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        d_fake_logits = discriminator(d_input(fake))
    # G: fool the updated D and stay close to b in L1.
    loss_g, gan, l1 = pix2pix_generator_loss(d_fake_logits, fake, b, lambda_l1, use_gan, use_l1)
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {
        "d_loss": float(loss_d.detach()),
        "g_loss": float(loss_g.detach()),
        "g_gan": float(gan.detach()),
        "l1": float(l1.detach()),
    }


# <<< end of the code saved from notebooks/05_pix2pix.ipynb <<<


class UNet(nn.Module):
    """The pix2pix U-Net: images a (N, in_channels, size, size) -> b (N, out_channels, size, size) in [-1, 1].

    ``down[i]`` halves the side (4x4 conv, stride 2; batch norm except on the first and the 1x1 bottleneck;
    LeakyReLU 0.2); ``up[j]`` doubles it (4x4 transposed conv, stride 2; batch norm, dropout in the first three,
    ReLU; tanh at the end). With ``skips`` each ``up[j]`` after the first also sees the encoder's features of its
    size (:func:`skip_connection`); without, it is a plain encoder-decoder through the 1x1 bottleneck.
    """

    def __init__(self, down: nn.ModuleList, up: nn.ModuleList, size: int, skips: bool) -> None:
        super().__init__()
        self.down, self.up, self.size, self.skips = down, up, size, skips

    def forward(self, a: Tensor) -> Tensor:
        validate.tensor(a, "a")
        if a.dim() != 4 or a.shape[-2:] != (self.size, self.size):
            raise ValueError(f"this U-Net takes images (N, C, {self.size}, {self.size}), got {tuple(a.shape)}")
        features = []
        x = a
        for block in self.down:  # encoder: size/2, size/4, ..., 1 (the bottleneck)
            x = block(x)
            features.append(x)
        x = self.up[0](features.pop())  # the bottleneck has no partner: its decoder block sees it alone
        for block in self.up[1:]:  # decoder: each block joins the encoder features of its own size
            encoder = features.pop()
            x = block(skip_connection(x, encoder) if self.skips else x)
        return x


def unet_generator(
    in_channels: int = 3,
    out_channels: int = 3,
    size: int = 256,
    width: int = 64,
    dropout: float = 0.5,
    skips: bool = True,
) -> UNet:
    """The pix2pix generator for images (N, in_channels, size, size) -> (N, out_channels, size, size) in [-1, 1].

    log2(size) encoder layers C64-C128-C256-C512-C512... (``width`` times 1, 2, 4, 8, 8, ...) take the image down to
    a 1x1 bottleneck; the decoder mirrors them. Dropout (``dropout``, 0.5 in the paper) in the first three decoder
    blocks is pix2pix's noise z: keep it on at test time with :func:`translate`. ``skips=False`` gives the same
    encoder-decoder without skip connections. Weights start ~ N(0, 0.02) (``models.dcgan_init``).
    """
    validate.positive_int(size, "size")
    validate.positive_int(width, "width")
    validate.positive_int(in_channels, "in_channels")
    validate.positive_int(out_channels, "out_channels")
    if size < 8 or size & (size - 1):
        raise ValueError(f"size must be a power of two, at least 8 (32, 64, 128, 256...), got {size}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
    depth = int(math.log2(size))
    channels = [width * min(2**i, 8) for i in range(depth)]  # encoder outputs, size/2 down to 1x1

    down = nn.ModuleList()
    for i, c_out in enumerate(channels):
        c_in = in_channels if i == 0 else channels[i - 1]
        norm = 0 < i < depth - 1  # no batch norm on the first layer, nor on the 1x1 bottleneck (one value per channel)
        down.append(
            nn.Sequential(
                nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not norm),
                *([nn.BatchNorm2d(c_out)] if norm else []),
                nn.LeakyReLU(0.2),
            )
        )
    up = nn.ModuleList()
    for j in range(depth - 1):
        c_in = channels[-1 - j] * (2 if skips and j > 0 else 1)
        c_out = channels[-2 - j]
        noise = [nn.Dropout(dropout)] if j < 3 and dropout > 0 else []
        up.append(
            nn.Sequential(
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), *noise, nn.ReLU()
            )
        )
    c_in = channels[0] * (2 if skips else 1)
    up.append(nn.Sequential(nn.ConvTranspose2d(c_in, out_channels, 4, 2, 1), nn.Tanh()))
    net = UNet(down, up, size, skips)
    net.apply(models.dcgan_init)
    return net


@torch.no_grad()
def translate(generator: nn.Module, a: Tensor, dropout: bool = True, batch_stats: bool = True) -> Tensor:
    """G(a) for inputs a (N, C, H, W), without gradients, the way pix2pix tests: ``dropout=True`` keeps dropout on
    (the noise z: calls differ), ``batch_stats=True`` normalises with the test batch's own statistics (pix2pix's
    choice) without touching the running averages; both False is plain ``eval()``. G's modes are restored after."""
    modes = {m: m.training for m in generator.modules()}
    saved = {name: buf.clone() for name, buf in generator.named_buffers()}
    generator.eval()
    for m in generator.modules():
        if (dropout and isinstance(m, nn.Dropout)) or (batch_stats and isinstance(m, nn.modules.batchnorm._BatchNorm)):
            m.train()
    try:
        return generator(a)
    finally:
        for m, mode in modes.items():
            m.train(mode)
        buffers = dict(generator.named_buffers())
        for name, value in saved.items():
            buffers[name].copy_(value)


# --------------------------------------------------------------------------- the PatchGAN discriminator
#: Normalisation layers by name: batch norm (pix2pix) or instance norm (CycleGAN: no learned scale, no running stats).
NORMS: dict[str, Callable[[int], nn.Module]] = {
    "batch": nn.BatchNorm2d,
    "instance": nn.InstanceNorm2d,
    "none": lambda c: nn.Identity(),
}


def _patchgan_convs(n_layers: int) -> list[tuple[int, int, int]]:
    """The (kernel, stride, padding) of the PatchGAN's convolutions: n_layers with stride 2, then two with stride 1."""
    validate.positive_int(n_layers, "n_layers")
    return [(4, 2, 1)] * n_layers + [(4, 1, 1), (4, 1, 1)]


def patchgan_discriminator(
    in_channels: int = 6, width: int = 64, n_layers: int = 3, norm: str = "batch"
) -> nn.Sequential:
    """PatchGAN D: pairs (N, in_channels, H, W) -> a map of logits (N, 1, H', W'), one per overlapping patch.

    C64-C128-C256-C512 (4x4 convs, strides 2, 2, 2, 1 for n_layers=3; batch norm except on the first; LeakyReLU 0.2),
    then a 1-channel 4x4 convolution. Each logit sees a 70x70 patch (:func:`receptive_field`). ``in_channels`` is
    the input's channels plus the output's (6 for RGB -> RGB); an unconditional D takes the output's alone (3).
    ``norm="instance"`` is CycleGAN's choice (per-image statistics), ``"none"`` drops the normalisation.
    """
    validate.positive_int(in_channels, "in_channels")
    validate.positive_int(width, "width")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {tuple(NORMS)}, got {norm!r}")
    convs = _patchgan_convs(n_layers)
    layers: list[nn.Module] = []
    c_in = in_channels
    for i, (k, s, p) in enumerate(convs[:-1]):
        c_out = width * min(2**i, 8)
        normed = i > 0 and norm != "none"
        layers += [
            nn.Conv2d(c_in, c_out, k, s, p, bias=not normed),
            *([NORMS[norm](c_out)] if normed else []),
            nn.LeakyReLU(0.2),
        ]
        c_in = c_out
    k, s, p = convs[-1]
    layers.append(nn.Conv2d(c_in, 1, k, s, p))
    net = nn.Sequential(*layers)
    net.apply(models.dcgan_init)
    return net


def patch_output_size(size: int, n_layers: int = 3) -> int:
    """Side of the PatchGAN's logit map for inputs of side ``size``: 30 for 256 with n_layers=3 (30 x 30 patches)."""
    validate.positive_int(size, "size")
    out = size
    for k, s, p in _patchgan_convs(n_layers):
        out = (out + 2 * p - k) // s + 1
        if out < 1:
            raise ValueError(f"images of side {size} are too small for a PatchGAN with n_layers={n_layers}")
    return out


# --------------------------------------------------------------------------- the conditional pair and the losses


def pix2pix_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Half the GAN discriminator loss, averaged over every patch of the logit maps (N, 1, H', W'); a scalar.

    pix2pix halves D's loss so that D learns more slowly than G.
    """
    return 0.5 * losses.discriminator_loss(real_logits, fake_logits)


# --------------------------------------------------------------------------- one training step and the loop


def pair_sampler(data: object) -> Callable[[int], tuple[Tensor, Tensor]]:
    """A function n -> (a (n, ...), b (n, ...)) drawing pairs from ``data``: a callable (returned as is), a tuple
    (A, B) of tensors, or a dataset of (a, b) pairs. Datasets are walked in a fresh random order every epoch."""
    if callable(data) and not isinstance(data, torch.utils.data.Dataset):
        return data
    if isinstance(data, torch.utils.data.TensorDataset) and len(data.tensors) >= 2:
        data = data.tensors[:2]
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, Tensor) for t in data):
        if len(data[0]) != len(data[1]) or len(data[0]) == 0:
            raise ValueError(
                f"A and B must hold the same (non-zero) number of pairs, got {len(data[0])} and {len(data[1])}"
            )
        get = lambda idx: (data[0][idx], data[1][idx])  # noqa: E731
        n_pairs = len(data[0])
    elif isinstance(data, torch.utils.data.Dataset) and hasattr(data, "__len__"):
        n_pairs = len(data)
        if n_pairs == 0:
            raise ValueError("the dataset is empty")

        def get(idx: Tensor) -> tuple[Tensor, Tensor]:
            items = [data[int(i)] for i in idx]
            return torch.stack([it[0] for it in items]), torch.stack([it[1] for it in items])
    else:
        raise TypeError(
            "data must be a sampler n -> (a, b), a tuple (A, B) of tensors or a dataset of (a, b) pairs, "
            f"got {type(data).__name__}"
        )
    order: list[int] = []

    def sample(n: int) -> tuple[Tensor, Tensor]:
        while len(order) < n:
            order.extend(torch.randperm(n_pairs).tolist())
        idx = torch.tensor([order.pop(0) for _ in range(n)])
        return get(idx)

    return sample


def train_pix2pix(
    generator: nn.Module,
    discriminator: nn.Module | None,
    data: object,
    steps: int,
    batch_size: int = 1,
    lr: float = 2e-4,
    betas: tuple[float, float] = (0.5, 0.999),
    lambda_l1: float = 100.0,
    use_gan: bool = True,
    use_l1: bool = True,
    conditional: bool = True,
    log_every: int = 25,
    callback: Callable[[int, nn.Module, nn.Module | None], None] | None = None,
    callback_every: int = 250,
    device: torch.device | None = None,
    desc: str = "pix2pix",
) -> train.History:
    """Train G (and D) with :func:`pix2pix_step` for ``steps`` steps on pairs from ``data`` (see :func:`pair_sampler`).

    Adam with pix2pix's lr 2e-4 and betas (0.5, 0.999); ``use_gan``, ``use_l1`` and ``conditional`` pick the ablation's
    row (D may be None when ``use_gan=False``). ``callback(step, G, D)`` runs before training and every
    ``callback_every`` steps. Prints steps, wall time and ms/step; returns the logged losses.
    """
    validate.positive_int(steps, "steps")
    validate.positive_int(batch_size, "batch_size")
    validate.positive_int(log_every, "log_every")
    sample = pair_sampler(data)
    dev = device or settings.device()
    generator.to(dev).train()
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=betas)
    opt_d = None
    if use_gan:
        if discriminator is None:
            raise ValueError("use_gan=True needs a discriminator")
        discriminator.to(dev).train()
        opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=betas)

    def one_step(step: int) -> dict[str, float]:
        a, b = sample(batch_size)
        batch = (a.to(dev), b.to(dev))
        return pix2pix_step(generator, discriminator, opt_g, opt_d, batch, lambda_l1, use_gan, use_l1, conditional)

    snapshot = None if callback is None else lambda step: callback(step, generator, discriminator)
    return train.fit(one_step, steps, log_every, desc, snapshot, callback_every, dev)
