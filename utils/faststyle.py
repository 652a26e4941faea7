"""Fast style transfer (Johnson, Alahi & Fei-Fei, 2016): a feed-forward image transformation network trained once,
with the perceptual loss of :mod:`utils.perceptual`, to stylise any photo in one forward pass (notebook 09).

The network (Johnson et al.'s supplementary material, with two later fixes): reflection-padded convolutions, instance
norm with a learned scale and shift (Ulyanov et al. 2016, instead of batch norm), 9x9 stride 1, 3x3 stride 2, 3x3
stride 2, five residual blocks at 1/4 resolution, two nearest-neighbour 2x upsamplings each followed by a 3x3 conv
(instead of fractionally strided = transposed convs, whose uneven kernel overlap paints checkerboards; Odena et al.
2016), a final 9x9 conv and tanh. Images are (N, 3, H, W) in [-1, 1], H and W divisible by 4.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from . import settings, train, validate
from .data import PHOTOS, _photo_crops, bundled_image, painterly
from .perceptual import LossNetwork, perceptual_objective, style_targets

#: The content images the shipped network trains on, and the photos it never sees (the unseen test images).
TRAIN_PHOTOS = ("chelsea", "rocket", "china", "flower")
TEST_PHOTOS = ("astronaut", "coffee")
#: Johnson et al.'s loss layers on VGG16: the Gram matrices of four layers for style, relu2_2 for content.
STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
CONTENT_LAYER = "relu2_2"
#: The shipped network's style: a painterly rendering of the bundled dahlia (flat strokes, a 16-colour palette).
STYLE_PHOTO = "flower"


# >>> saved from notebooks/09_fast_style_transfer.ipynb (edit it there, then run `make save`) >>>
def conv_layer(
    in_channels: int, out_channels: int, kernel: int, stride: int = 1, norm: bool = True, relu: bool = True
) -> nn.Sequential:
    """Reflection pad + conv (+ affine instance norm + ReLU): (N, in, H, W) -> (N, out, H / stride, W / stride)."""
    layers: list[nn.Module] = [
        nn.ReflectionPad2d(kernel // 2),
        nn.Conv2d(in_channels, out_channels, kernel, stride, bias=not norm),
    ]
    if norm:
        layers.append(nn.InstanceNorm2d(out_channels, affine=True))
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class StyleResidualBlock(nn.Module):
    """x + IN(conv(ReLU(IN(conv(x))))) on (N, C, H, W): 3x3 reflection-padded convs, affine instance norms."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv_layer(channels, channels, 3), conv_layer(channels, channels, 3, relu=False))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class UpsampleConv(nn.Module):
    """Nearest-neighbour 2x upsampling, then conv + IN + ReLU: (N, in, H, W) -> (N, out, 2H, 2W), no checkerboard."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 3) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = conv_layer(in_channels, out_channels, kernel)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(self.up(x))


class TransformNet(nn.Module):
    """Johnson et al.'s image transformation network: (N, 3, H, W) -> (N, 3, H, W) in [-1, 1], H, W divisible by 4.

    ``width`` is the first layer's channels (Johnson: 32, so 32/64/128); ``n_blocks`` residual blocks (Johnson: 5).
    """

    def __init__(self, width: int = 32, n_blocks: int = 5) -> None:
        super().__init__()
        validate.positive_int(width, "width")
        validate.positive_int(n_blocks, "n_blocks")
        self.down = nn.Sequential(
            conv_layer(3, width, 9),
            conv_layer(width, 2 * width, 3, stride=2),
            conv_layer(2 * width, 4 * width, 3, stride=2),
        )
        self.blocks = nn.Sequential(*[StyleResidualBlock(4 * width) for _ in range(n_blocks)])
        self.up = nn.Sequential(UpsampleConv(4 * width, 2 * width), UpsampleConv(2 * width, width))
        self.out = conv_layer(width, 3, 9, norm=False, relu=False)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != 3 or x.shape[-2] % 4 or x.shape[-1] % 4:
            raise ValueError(
                f"x must have shape (N, 3, H, W) with H and W divisible by 4 (two stride-2 stages), "
                f"got {tuple(x.shape)}; crop or pad the image, or use stylise(), which pads"
            )
        return torch.tanh(self.out(self.up(self.blocks(self.down(x)))))


def stylise(net: nn.Module, images: Tensor, batch_size: int = 8) -> Tensor:
    """Stylise images (N, 3, H, W) in [-1, 1] of any size, in batches, without gradients -> (N, 3, H, W) on the CPU.

    Sides that are not multiples of 4 are reflection-padded up to one and the output cropped back.
    """
    validate.images(images, "images")
    validate.positive_int(batch_size, "batch_size")
    if images.shape[1] != 3:
        raise ValueError(f"images must be colour (N, 3, H, W), got {tuple(images.shape)}")
    h, w = images.shape[-2:]
    pad_h, pad_w = -h % 4, -w % 4
    if min(h, w) < 4 or pad_h >= h or pad_w >= w:
        raise ValueError(f"images must be at least 4x4 pixels, got {h}x{w}")
    was_training = net.training
    net.eval()
    dev = next(net.parameters()).device
    outs = []
    with torch.no_grad():
        for chunk in images.split(batch_size):
            x = nn.functional.pad(chunk.to(dev), (0, pad_w, 0, pad_h), mode="reflect")
            outs.append(net(x)[..., :h, :w].cpu())
    net.train(was_training)
    return torch.cat(outs)


def style_image(name: str = STYLE_PHOTO, size: int = 256) -> Tensor:
    """The style image (1, 3, size, size) in [-1, 1]: :func:`utils.data.painterly` of the bundled photo ``name``."""
    return painterly(bundled_image(name, size).unsqueeze(0))


def content_sampler(size: int = 128, photos: tuple[str, ...] = TRAIN_PHOTOS, seed: int = 0) -> Callable[[int], Tensor]:
    """A function n -> n fresh random crops (n, 3, size, size) in [-1, 1] of ``photos`` (35-80 % of a photo's side,
    resized, flipped half the time); the same sequence for the same seed."""
    validate.positive_int(size, "size")
    if not photos or any(p not in PHOTOS for p in photos):
        raise ValueError(f"photos must be a non-empty tuple of bundled photos from {PHOTOS}, got {photos!r}")
    rng = np.random.default_rng(seed)

    def sample(n: int) -> Tensor:
        return _photo_crops(size, n, int(rng.integers(2**31)), tuple(photos))

    return sample


def train_fast_style(
    net: nn.Module,
    loss_net: LossNetwork,
    style: Tensor,
    sample_content: Callable[[int], Tensor],
    steps: int,
    batch_size: int = 4,
    lr: float = 1e-3,
    content_weight: float = 1.0,
    style_weight: float = 10.0,
    tv_weight: float = 0.0,
    content_layer: str = CONTENT_LAYER,
    style_layers: Sequence[str] = STYLE_LAYERS,
    log_every: int = 25,
    device: torch.device | None = None,
    desc: str = "fast style",
) -> train.History:
    """Train ``net`` with Adam to minimise the perceptual loss of net(x) for content crops x (batch_size, 3, S, S).

    Loss: content_weight * MSE(phi_j(net(x)), phi_j(x)) at ``content_layer`` + style_weight * sum over
    ``style_layers`` of ||G(net(x)) - G(style)||_F^2 ("chw" Grams) + tv_weight * TV(net(x)); ``style`` is one image
    (1, 3, H, W) in [-1, 1]; ``sample_content(n)`` returns n crops. Returns a ``train.History`` with the mean of
    each term (``content``, ``style``, ``tv``, ``total``) over every ``log_every`` steps.
    """
    validate.positive_int(steps, "steps")
    validate.positive_int(batch_size, "batch_size")
    validate.positive_int(log_every, "log_every")
    validate.images(style, "style")
    if style.shape[0] != 1 or style.shape[1] != 3:
        raise ValueError(f"style must be one colour image (1, 3, H, W), got {tuple(style.shape)}")
    missing = [name for name in (content_layer, *style_layers) if name not in loss_net.layers]
    if missing:
        raise ValueError(
            f"loss_net lacks the layer(s) {missing}; build it with "
            f"vgg_features(layers={(content_layer, *style_layers)!r})"
        )
    dev = device or settings.device()
    net.to(dev).train()
    loss_net.to(dev)
    grams = style_targets(loss_net, style.to(dev), style_layers)
    opt = torch.optim.Adam(net.parameters(), lr=lr)

    def one_step(step: int) -> dict[str, Tensor]:
        x = sample_content(batch_size).to(dev)
        with torch.no_grad():  # the content target needs the loss network only up to content_layer
            target = {
                content_layer: loss_net.features[: loss_net.layer_index[content_layer] + 1](loss_net.normalise(x))
            }
        terms = perceptual_objective(loss_net, net(x), target, grams, content_weight, style_weight, tv_weight)
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        opt.step()
        return {key: terms[key] for key in ("content", "style", "tv", "total")}

    return train.fit(one_step, steps, log_every, desc, device=dev)


def median_seconds(
    fn: Callable[[], object], repeats: int = 5, warmup: int = 1, device: torch.device | None = None
) -> float:
    """The median wall time of ``fn()`` over ``repeats`` calls after ``warmup`` untimed ones, waiting for the GPU."""
    validate.positive_int(repeats, "repeats")
    dev = device or torch.device("cpu")

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


# <<< end of the code saved from notebooks/09_fast_style_transfer.ipynb <<<
