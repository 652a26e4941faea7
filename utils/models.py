"""Models: the small networks the notebooks build from scratch, kept here for reuse by later notebooks."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from . import validate


# >>> saved from notebooks/02_gan_from_scratch.ipynb (edit it there, then run `make save`) >>>
def mlp(in_dim: int, out_dim: int, hidden: int = 128, depth: int = 3) -> nn.Sequential:
    """Multilayer perceptron (N, in_dim) -> (N, out_dim): ``depth`` LeakyReLU(0.2) hidden layers of ``hidden`` units."""
    layers: list[nn.Module] = []
    width = in_dim
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


def mlp_generator(z_dim: int = 2, out_dim: int = 2, hidden: int = 128, depth: int = 3) -> nn.Sequential:
    """Generator G: noise z (N, z_dim) -> sample x (N, out_dim)."""
    return mlp(z_dim, out_dim, hidden, depth)


def mlp_discriminator(in_dim: int = 2, hidden: int = 128, depth: int = 3) -> nn.Sequential:
    """Discriminator D: sample x (N, in_dim) -> one logit (N, 1); D(x) = sigmoid(logit) is P(x is real)."""
    return mlp(in_dim, 1, hidden, depth)


# <<< end of the code saved from notebooks/02_gan_from_scratch.ipynb <<<


# >>> saved from notebooks/01_conditional_generative_models.ipynb (edit it there, then run `make save`) >>>
class ConditionalGaussian(nn.Module):
    """A conditional generator for 2-D data: condition c (N,) of ``n_classes`` labels -> a Gaussian over x.

    ``forward(c)`` returns ``(mean (N, 2), log_std (N, 2))``; ``sample(c)`` draws x = mean + std * z.
    """

    def __init__(self, n_classes: int, dim: int = 2, hidden: int = 64) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.net = mlp(n_classes, 2 * dim, hidden, depth=2)

    def forward(self, c: Tensor) -> tuple[Tensor, Tensor]:
        validate.tensor(c, "c")
        if c.dim() != 1 or c.dtype != torch.int64:
            raise ValueError(
                f"c must be an int64 tensor of class labels with shape (N,), got {c.dtype} {tuple(c.shape)}"
            )
        out = self.net(nn.functional.one_hot(c, self.n_classes).float())
        mean, log_std = out.chunk(2, dim=1)
        return mean, log_std

    def sample(self, c: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Draw one x (N, 2) for each condition in c (N,)."""
        mean, log_std = self(c)
        z = torch.randn(mean.shape, generator=generator, device=mean.device)
        return mean + log_std.exp() * z


# <<< end of the code saved from notebooks/01_conditional_generative_models.ipynb <<<


# ---------------------------------------------------------------------- DCGAN and a class-conditional GAN for digits
# >>> saved from notebooks/04_dcgan_and_conditional_gan.ipynb (edit it there, then run `make save`) >>>
def conv_transpose_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0
) -> int:
    """Output height (or width) of ``nn.ConvTranspose2d`` for input ``size``: (size - 1) s - 2p + k + output_padding."""
    return (size - 1) * stride - 2 * padding + kernel + output_padding


def _upsampling_plan(size: int) -> tuple[int, int]:
    """Write ``size`` as start * 2**n with start in 4..7 (16 = 4 * 2**2, 28 = 7 * 2**2); returns (start, n)."""
    validate.positive_int(size, "size")
    start, n = size, 0
    while start % 2 == 0 and start // 2 >= 4:
        start, n = start // 2, n + 1
    if not 4 <= start <= 7 or n == 0:
        raise ValueError(f"image size must be 4..7 times a power of two, at least 8 (8, 16, 28, 32, 64...), got {size}")
    return start, n


def dcgan_generator(
    z_dim: int = 32, size: int = 16, channels: int = 1, width: int = 32, batch_norm: bool = True
) -> nn.Sequential:
    """DCGAN generator: noise z (N, z_dim) -> images (N, channels, size, size) in [-1, 1].

    A transposed convolution turns the 1x1 noise into a 4x4 map (``start`` x ``start``), then each stride-2
    transposed convolution doubles the side while halving the channels; batch norm (unless ``batch_norm=False``)
    and ReLU between, tanh at the end.
    """
    start, n = _upsampling_plan(size)
    ch = width * 2 ** (n - 1)

    def block(c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> list[nn.Module]:
        norm: list[nn.Module] = [nn.BatchNorm2d(c_out)] if batch_norm else []
        return [nn.ConvTranspose2d(c_in, c_out, kernel, stride, padding, bias=not batch_norm), *norm, nn.ReLU()]

    layers: list[nn.Module] = [nn.Unflatten(1, (z_dim, 1, 1)), *block(z_dim, ch, start, 1, 0)]
    for _ in range(n - 1):
        layers += block(ch, ch // 2, 4, 2, 1)
        ch //= 2
    layers += [nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()]
    return nn.Sequential(*layers)


def dcgan_discriminator(size: int = 16, channels: int = 1, width: int = 32, batch_norm: bool = True) -> nn.Sequential:
    """DCGAN discriminator: images (N, channels, size, size) -> one logit (N, 1).

    Stride-2 convolutions halve the side (no pooling), LeakyReLU(0.2) throughout, batch norm after every layer but
    the first (``batch_norm=False`` leaves it out); a last convolution the size of the remaining map gives the logit.
    """
    start, n = _upsampling_plan(size)
    layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
    ch = width
    for _ in range(n - 1):
        norm: list[nn.Module] = [nn.BatchNorm2d(ch * 2)] if batch_norm else []
        layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=not batch_norm), *norm, nn.LeakyReLU(0.2)]
        ch *= 2
    layers += [nn.Conv2d(ch, 1, start, 1, 0), nn.Flatten()]
    return nn.Sequential(*layers)


def dcgan_init(module: nn.Module) -> None:
    """The DCGAN initialisation, for ``model.apply(dcgan_init)``: (transposed) convolution, linear and embedding
    weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DigitClassifier(nn.Module):
    """A small CNN for digit images (N, 1, size, size) -> class logits (N, n_classes); ``features`` gives the
    penultimate layer (N, n_features), the embedding for the digits Fréchet distance."""

    def __init__(self, n_classes: int = 10, size: int = 16, n_features: int = 64) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * (size // 4) ** 2, n_features),
            nn.ReLU(),
        )
        self.head = nn.Linear(n_features, n_classes)

    def features(self, x: Tensor) -> Tensor:
        """Penultimate-layer features (N, n_features) of images (N, 1, size, size)."""
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


def _labels(labels: object, n: int, n_classes: int) -> Tensor:
    """Check class labels: an int64 tensor (n,) with values in 0..n_classes-1."""
    validate.tensor(labels, "labels")
    if labels.dim() != 1 or labels.dtype != torch.int64 or labels.shape[0] != n:
        raise ValueError(f"labels must be an int64 tensor of shape ({n},), got {labels.dtype} {tuple(labels.shape)}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1}, got values in [{int(labels.min())}, {int(labels.max())}]"
        )
    return labels


def conditional_input(z: Tensor, labels: Tensor, n_classes: int) -> Tensor:
    """Conditional generator's input: noise z (N, z_dim), labels (N,) -> [z, one_hot(labels)] (N, z_dim + n_classes)."""
    validate.tensor(z, "z")
    if z.dim() != 2:
        raise ValueError(f"z must have shape (N, z_dim), got {tuple(z.shape)}")
    _labels(labels, z.shape[0], n_classes)
    return torch.cat([z, nn.functional.one_hot(labels, n_classes).to(z.dtype)], dim=1)


class ConditionalDCGANGenerator(nn.Module):
    """Class-conditional generator G(z, c): noise (N, z_dim) and labels (N,) -> images (N, channels, size, size).

    The label enters as a one-hot vector concatenated with z (:func:`conditional_input`); the rest is a DCGAN generator.
    """

    def __init__(
        self, z_dim: int = 32, n_classes: int = 10, size: int = 16, channels: int = 1, width: int = 32
    ) -> None:
        super().__init__()
        self.z_dim, self.n_classes = z_dim, n_classes
        self.net = dcgan_generator(z_dim + n_classes, size, channels, width)

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        return self.net(conditional_input(z, labels, self.n_classes))


class ConditionalDCGANDiscriminator(nn.Module):
    """Class-conditional discriminator D(x, c) with a projection (Miyato & Koyama, 2018): images (N, C, H, W) and
    labels (N,) -> logits (N, 1) = w . h(x) + embed(c) . h(x), where h(x) (N, F) are the features of a DCGAN
    discriminator without batch norm and without its last layer."""

    def __init__(self, n_classes: int = 10, size: int = 16, channels: int = 1, width: int = 32) -> None:
        super().__init__()
        self.n_classes = n_classes
        body = dcgan_discriminator(size, channels, width, batch_norm=False)
        self.features = nn.Sequential(*list(body)[:-2], nn.Flatten())  # drop the last conv: keep the feature map
        start, n = _upsampling_plan(size)
        n_features = width * 2 ** (n - 1) * start * start
        self.linear = nn.Linear(n_features, 1)
        self.embed = nn.Embedding(n_classes, n_features)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        h = self.features(x)
        _labels(labels, h.shape[0], self.n_classes)
        return self.linear(h) + (self.embed(labels) * h).sum(dim=1, keepdim=True)


# <<< end of the code saved from notebooks/04_dcgan_and_conditional_gan.ipynb <<<
