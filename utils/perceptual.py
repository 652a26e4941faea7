"""Perceptual loss (notebooks 08-09): a frozen VGG loss network with named layers, Gram matrices, the content and
style losses of Gatys et al. and Johnson et al., and total variation.

Images are (N, C, H, W) in [-1, 1] with C in {1, 3} (grey images are repeated to 3 channels); the loss network maps
them to [0, 1] and applies ImageNet's mean/std normalisation itself. Features are (N, C_l, H_l, W_l).

Gram normalisation (``normalise``), for features F of shape (C, H, W) flattened to (C, M) with M = H W:

* ``"chw"`` (Johnson et al. 2016): G = F F^T / (C H W). The squared Frobenius distance between two such Grams is
  exactly 4 E_l of Gatys et al. (2015), whose layer loss is E_l = sum((G - A)^2) / (4 C^2 M^2) on unnormalised Grams:
  so "chw" is Gatys's loss up to the constant 4, and every layer's term is O(1) whatever its width and image size.
* ``"hw"``: G = F F^T / (H W), a mean over positions. The distance is C^2 times the "chw" one: a 512-channel layer
  weighs 64x more than a 64-channel one for the same relative mismatch, so deep layers dominate unless their
  ``layer_weights`` are lowered, and the style weight that balances the content loss is far smaller.
* ``"none"``: G = F F^T, raw sums. The distance grows with (C H W)^2: besides the layer imbalance, the right style
  weight now depends on the image size (4x the pixels: 16x the loss).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from . import validate
from .data.vgg_weights import WeightsUnavailableError, imagenet_weights  # the ImageNet weights file

#: torchvision's configuration letter for each architecture ("M" is a 2x2 max-pool, a number a 3x3 conv + ReLU).
ARCHS = {"vgg16": "D", "vgg19": "E"}
#: The layers of Johnson et al.'s style loss (VGG16); the content layer they use is relu2_2.
DEFAULT_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
#: ImageNet's channel mean and standard deviation, on images in [0, 1] (what torchvision's weights expect).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: The seed of ``weights="random"``: the same random network every time, on every machine.
RANDOM_SEED = 0
GRAM_NORMALISATIONS = ("chw", "hw", "none")
#: How sharply x = tanh(k z) maps the optimised variable z to pixels: with k = 4, z in [-1, 1] covers x up to
#: tanh(4) = 0.9993, so optimise_image's final clamp of z to [-1, 1] costs nothing.
SHARPNESS = 4.0


# --------------------------------------------------------------------------- layer names
def _config(arch: str) -> list:
    """torchvision's layer configuration of ``arch`` ("vgg16" or "vgg19"), e.g. [64, 64, "M", 128, ...]."""
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; choose one of {sorted(ARCHS)}")
    from torchvision.models.vgg import cfgs

    return list(cfgs[ARCHS[arch]])


def layer_names(arch: str = "vgg16") -> list[str]:
    """The standard names of ``torchvision.models.<arch>().features``, in order: conv1_1, relu1_1, ..., pool5."""
    names, block, conv = [], 1, 0
    for v in _config(arch):
        if v == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 0
        else:
            conv += 1
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
    return names


def _make_features(arch: str, n_modules: int) -> nn.Sequential:
    """The first ``n_modules`` modules of ``<arch>().features`` (same indices), ReLUs not in-place, weights UNSET.

    Built on the meta device and then given (uninitialised) CPU memory, so building draws nothing from the global
    random generator; :func:`init_random` or :func:`load_features` fills the weights.
    """
    layers: list[nn.Module] = []
    channels = 3
    with torch.device("meta"):
        for v in _config(arch):
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:  # in-place ReLUs would overwrite a conv output (e.g. conv4_2) that we return
                layers += [nn.Conv2d(channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=False)]
                channels = v
    return nn.Sequential(*layers[:n_modules]).to_empty(device="cpu")


# --------------------------------------------------------------------------- the loss network
class LossNetwork(nn.Module):
    """A frozen VGG trunk: images (N, C, H, W) in [-1, 1] -> OrderedDict {layer name: features (N, C_l, H_l, W_l)}.

    Always in eval mode with ``requires_grad=False`` parameters: ``train()`` is a no-op, so a parent model's
    ``.train()`` leaves it frozen; gradients still flow to the input. ``weights_source`` says which weights it
    holds: "imagenet", "random" or the path of a file.
    """

    def __init__(self, features: nn.Sequential, layers: Mapping[str, int], arch: str, weights_source: str):
        super().__init__()
        self.features = features
        self.layer_index = dict(layers)  # name -> index in features, in the order asked for
        self.arch = arch
        self.weights_source = weights_source
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        super().train(False)

    @property
    def layers(self) -> tuple[str, ...]:
        """The layer names this network returns, in the order they were asked for."""
        return tuple(self.layer_index)

    def train(self, mode: bool = True) -> LossNetwork:
        """Stay in eval mode whatever ``mode`` says: a loss network is never trained."""
        return super().train(False)

    def normalise(self, x: Tensor) -> Tensor:
        """Images (N, C, H, W) in [-1, 1], C in {1, 3} -> ImageNet-normalised (N, 3, H, W)."""
        validate.images(x, "x", check_range=False)  # pixels being optimised may step a little outside [-1, 1]
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return ((x + 1) / 2 - self.mean) / self.std

    def forward(self, x: Tensor) -> OrderedDict[str, Tensor]:
        """Features of images (N, C, H, W) in [-1, 1] at the requested layers; runs only up to the deepest one."""
        h = self.normalise(x)
        wanted = {i: name for name, i in self.layer_index.items()}
        found: dict[str, Tensor] = {}
        for i, module in enumerate(self.features):
            h = module(h)
            if i in wanted:
                found[wanted[i]] = h
        return OrderedDict((name, found[name]) for name in self.layer_index)

    def extra_repr(self) -> str:
        return f"arch={self.arch!r}, layers={list(self.layer_index)}, weights_source={self.weights_source!r}"


def vgg_features(
    arch: str = "vgg16",
    layers: Sequence[str] | str = DEFAULT_LAYERS,
    weights: str | Path = "auto",
    progress: bool = True,
) -> LossNetwork:
    """A frozen VGG16/VGG19 loss network returning features at ``layers`` (e.g. relu2_2), truncated after the deepest.

    ``weights``: "imagenet" (torchvision's ImageNet weights from the torch hub cache, downloaded and checksum-checked
    when missing; raises :class:`WeightsUnavailableError` when they cannot be had), "random" (see
    :func:`init_random`), "auto" (ImageNet when possible, otherwise random, saying so in one printed message),
    or the path of a .pth state dict (torchvision's VGG file, downloaded by hand, or a ``features`` state dict).
    """
    names = layer_names(arch)
    layers = (layers,) if isinstance(layers, str) else tuple(dict.fromkeys(layers))
    if not layers:
        raise ValueError("layers must name at least one layer, e.g. ('relu2_2',)")
    unknown = [name for name in layers if name not in names]
    if unknown:
        raise ValueError(f"unknown layer name(s) {unknown} for {arch}; valid names: {', '.join(names)}")
    index = {name: names.index(name) for name in layers}
    features = _make_features(arch, max(index.values()) + 1)

    if isinstance(weights, str) and weights in ("imagenet", "random", "auto"):
        source = weights
        if weights == "auto":
            try:
                path = imagenet_weights(arch, progress=progress)
                source = "imagenet"
            except WeightsUnavailableError as err:
                print(
                    f"loss network: ImageNet weights for {arch} are not available, so this {arch} uses RANDOM "
                    f"weights (weights_source='random', seed {RANDOM_SEED}).\n{err}"
                )
                source = "random"
        elif weights == "imagenet":
            path = imagenet_weights(arch, progress=progress)
        if source == "random":
            init_random(features)
        else:
            load_features(features, path)
    elif isinstance(weights, (str, Path)):
        path = Path(weights).expanduser()
        if not path.is_file():
            raise ValueError(
                f"weights must be 'auto', 'imagenet', 'random' or the path of a .pth file; "
                f"{str(weights)!r} is none of these (no such file)"
            )
        load_features(features, path)
        source = str(path)
    else:
        raise TypeError(f"weights must be a str or a Path, got {type(weights).__name__}")
    return LossNetwork(features, index, arch, source)


# --------------------------------------------------------------------------- weights
def init_random(features: nn.Sequential, seed: int = RANDOM_SEED) -> nn.Sequential:
    """Give every conv of ``features`` Kaiming-normal weights (fan_in, ReLU gain) and zero biases, from ``seed``.

    Why this init: Kaiming's fan_in scaling (He et al. 2015) keeps the mean square of the activations roughly
    constant from layer to layer through the ReLUs, so every layer's features -- and so its term in the style loss
    -- stay on one scale, and no layer drowns the others (He, Wang & Hopcroft 2016 rescale the layers of their
    random VGG for the same reason). With zero biases, ReLU and max-pooling are positively homogeneous: the scale
    of a layer's weights only rescales the features after it, so what the random network can express lies in the
    random filter directions, which is what Ustyuzhaninov et al. 2016 show suffice for textures. torchvision's own
    VGG init is Kaiming-normal with fan_out; fan_in differs only by a constant per layer. The convs are drawn in
    order from one generator, so a truncated network holds exactly the first layers of the full one.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in features:
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu", generator=generator)
                nn.init.zeros_(module.bias)
    return features


def load_features(features: nn.Sequential, path: str | Path) -> nn.Sequential:
    """Load the conv weights of (truncated) ``features`` from a VGG state dict file, checking names and shapes.

    Accepts torchvision's full VGG state dict (keys ``features.0.weight``, ...) or one of ``features`` alone
    (keys ``0.weight``, ...); the classifier's weights, and layers beyond the truncation, are ignored.
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # not a pickle, a whole pickled model, a truncated file...
        raise ValueError(f"could not read a state dict from {path}: {err}") from err
    if not isinstance(state, Mapping):
        raise ValueError(f"{path} does not hold a state dict (a dict of tensors), got {type(state).__name__}")
    if not any(str(k).startswith("features.") for k in state):
        state = {f"features.{k}": v for k, v in state.items()}
    problems = []
    for key, param in features.state_dict().items():
        got = state.get(f"features.{key}")
        if got is None:
            problems.append(f"features.{key} is missing")
        elif not isinstance(got, Tensor) or got.shape != param.shape:
            shape = tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__
            problems.append(f"features.{key} has shape {shape}, expected {tuple(param.shape)}")
    if problems:
        raise ValueError(
            f"{path} does not fit this VGG ({len(problems)} problem(s)): "
            + "; ".join(problems[:5])
            + ("; ..." if len(problems) > 5 else "")
            + ". Expected torchvision's VGG16/VGG19 ImageNet file for the same arch."
        )
    features.load_state_dict({key: state[f"features.{key}"] for key in features.state_dict()})
    return features


# --------------------------------------------------------------------------- losses
# >>> saved from notebooks/08_perceptual_loss_and_style_transfer.ipynb (edit it there, then run `make save`) >>>
def gram_matrix(features: Tensor, normalise: str = "chw") -> Tensor:
    r"""Gram matrices $G = F F^\top / s$ of features (B, C, H, W) -> (B, C, C), with F each (C, HW) feature map.

    $G_{ij} = \frac{1}{s} \sum_k F_{ik} F_{jk}$ with s = C H W, H W or 1 (``normalise``: "chw", "hw" or "none").
    """
    validate.feature_maps(features, "features")
    validate.one_of(normalise, GRAM_NORMALISATIONS, "normalise")
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w)
    scale = {"chw": c * h * w, "hw": h * w, "none": 1}[normalise]
    return flat @ flat.transpose(1, 2) / scale


class TanhPixels(nn.Module):
    """A loss network seen through pixels x = tanh(k z): z (N, C, H, W) -> the features of x, every pixel in (-1, 1).

    L-BFGS has no box constraint: left alone it pushes pixels far outside [-1, 1] when that matches a Gram matrix
    better, and the final clamp then undoes the match. Optimising z instead of x keeps every pixel in range.
    """

    def __init__(self, loss_net: LossNetwork, sharpness: float = SHARPNESS):
        super().__init__()
        if not sharpness > 0:
            raise ValueError(f"sharpness must be positive, got {sharpness!r}")
        self.loss_net, self.sharpness = loss_net, float(sharpness)

    @property
    def layers(self) -> tuple[str, ...]:
        """The layers of the wrapped loss network."""
        return self.loss_net.layers

    def to_pixels(self, z: Tensor) -> Tensor:
        """z (N, C, H, W) -> pixels tanh(k z) in (-1, 1)."""
        return torch.tanh(self.sharpness * z)

    def to_latent(self, x: Tensor) -> Tensor:
        """Pixels (N, C, H, W) in [-1, 1] -> z = atanh(x) / k (pixels at +-1 are moved in to +-0.999 first)."""
        return torch.atanh(x.clamp(-0.999, 0.999)) / self.sharpness

    def forward(self, z: Tensor) -> OrderedDict[str, Tensor]:
        """Features {layer: (N, C_l, H_l, W_l)} of the pixels tanh(k z)."""
        return self.loss_net(self.to_pixels(z))


# <<< end of the code saved from notebooks/08_perceptual_loss_and_style_transfer.ipynb <<<


def content_loss(feat: Tensor, target_feat: Tensor) -> Tensor:
    """Feature reconstruction loss: mean squared error between features (B, C, H, W) and targets (B or 1, C, H, W)."""
    validate.tensor(feat, "feat")
    validate.tensor(target_feat, "target_feat")
    if (
        feat.dim() != 4
        or target_feat.dim() != 4
        or feat.shape[1:] != target_feat.shape[1:]
        or target_feat.shape[0] not in (1, feat.shape[0])
    ):
        raise ValueError(
            f"feat (B, C, H, W) and target_feat (B or 1, C, H, W) must match, "
            f"got {tuple(feat.shape)} and {tuple(target_feat.shape)}"
        )
    return (feat - target_feat.detach()).square().mean()


def style_loss(
    feats: Mapping[str, Tensor],
    target_grams: Mapping[str, Tensor],
    layer_weights: Mapping[str, float] | None = None,
    normalise: str = "chw",
) -> Tensor:
    r"""The style loss $\mathcal{L}_{style} = \sum_l w_l \, \lVert G(F^l) - G^l_{target} \rVert_F^2$, batch mean.

    ``feats``: {layer: (B, C, H, W)}; ``target_grams``: {layer: (B or 1, C, C)}, made with the same ``normalise``;
    ``layer_weights``: {layer: w_l}, 1 for a layer not listed. A scalar.
    """
    validate.style_layers(feats, target_grams, layer_weights)
    weights = dict(layer_weights or {})
    total = 0.0
    for name, target in target_grams.items():
        gram = gram_matrix(feats[name], normalise)
        validate.gram_target(target, gram, f"target_grams[{name!r}]")
        distance = (gram - target.detach()).square().sum(dim=(1, 2)).mean()
        total = total + weights.get(name, 1.0) * distance
    return total


def total_variation(x: Tensor) -> Tensor:
    """Squared total variation of images (N, C, H, W): mean squared horizontal + mean squared vertical difference.

    The beta = 2 total variation of Mahendran & Vedaldi that Johnson et al.'s code uses (its gradient is that of
    0.5 * sum of squared neighbour differences); we take means instead of sums so the weight does not depend on the
    image size. A constant image scores 0; a +-1 checkerboard scores 4 + 4 = 8.
    """
    validate.tensor(x, "x")
    if x.dim() != 4 or x.shape[-1] < 2 or x.shape[-2] < 2:
        raise ValueError(f"x must have shape (N, C, H, W) with H, W >= 2, got {tuple(x.shape)}")
    dx = x[..., :, 1:] - x[..., :, :-1]
    dy = x[..., 1:, :] - x[..., :-1, :]
    return dx.square().mean() + dy.square().mean()


# --------------------------------------------------------------------------- optimising an image
def style_targets(
    loss_net: LossNetwork, style: Tensor, layers: Sequence[str] | None = None, normalise: str = "chw"
) -> OrderedDict[str, Tensor]:
    """The target Gram matrices {layer: (1, C_l, C_l)} of one style image (1, C, H, W) at ``layers`` (default: all)."""
    validate.images(style, "style", check_range=False)
    if style.shape[0] != 1:
        raise ValueError(f"style must be one image (1, C, H, W), got {tuple(style.shape)}")
    layers = tuple(layers or loss_net.layers)
    with torch.no_grad():
        feats = loss_net(style)
    return OrderedDict((name, gram_matrix(feats[name], normalise)) for name in layers)


def content_targets(loss_net: LossNetwork, content: Tensor, layers: Sequence[str]) -> OrderedDict[str, Tensor]:
    """The target features {layer: (N, C_l, H_l, W_l)} of content images (N, C, H, W) at ``layers``."""
    validate.images(content, "content", check_range=False)
    with torch.no_grad():
        feats = loss_net(content)
    return OrderedDict((name, feats[name]) for name in layers)


def perceptual_objective(
    loss_net: LossNetwork,
    x: Tensor,
    content: Mapping[str, Tensor] | None = None,
    style: Mapping[str, Tensor] | None = None,
    content_weight: float = 1.0,
    style_weight: float = 1.0,
    tv_weight: float = 0.0,
    layer_weights: Mapping[str, float] | None = None,
    normalise: str = "chw",
) -> OrderedDict[str, Tensor]:
    """The weighted terms {"content", "style", "tv", "total"} (scalars) for images x (N, C, H, W) in [-1, 1].

    ``content``: target features {layer: (1 or N, C_l, H_l, W_l)}; ``style``: target Grams {layer: (1 or N, C_l, C_l)}.
    Either may be None (feature inversion has no style, texture synthesis no content).
    """
    if not content and not style:
        raise ValueError("give content targets, style targets or both (see content_targets / style_targets)")
    feats = loss_net(x)
    zero = x.new_zeros(())
    terms = OrderedDict()
    terms["content"] = (
        content_weight * sum((content_loss(feats[k], t) for k, t in content.items()), zero) if content else zero
    )
    terms["style"] = style_weight * style_loss(feats, style, layer_weights, normalise) if style else zero
    terms["tv"] = tv_weight * total_variation(x) if tv_weight else zero
    terms["total"] = terms["content"] + terms["style"] + terms["tv"]
    return terms


def optimise_image(
    loss_net: LossNetwork,
    init: Tensor,
    content: Mapping[str, Tensor] | None = None,
    style: Mapping[str, Tensor] | None = None,
    content_weight: float = 1.0,
    style_weight: float = 1.0,
    tv_weight: float = 0.0,
    layer_weights: Mapping[str, float] | None = None,
    normalise: str = "chw",
    method: str = "lbfgs",
    steps: int = 100,
    lr: float | None = None,
    progress: bool = True,
) -> tuple[Tensor, list[float]]:
    """Optimise the pixels of ``init`` (N, C, H, W) in [-1, 1] to lower :func:`perceptual_objective` (Gatys et al.).

    ``method``: "lbfgs" (torch.optim.LBFGS, strong-Wolfe line search, at most ``steps`` iterations and 1.25 x
    ``steps`` loss evaluations; it may stop early once the loss stops changing) or "adam" (``steps`` evaluations; lr
    default 0.02; pixels clamped to [-1, 1] after each step). Returns (image (N, C, H, W) clamped to [-1, 1],
    detached; the total loss at every evaluation, so both methods can be compared per evaluation = per unit of cost).
    """
    from .settings import progress as bar

    validate.images(init, "init", check_range=False)
    if method not in ("lbfgs", "adam"):
        raise ValueError(f"method must be 'lbfgs' or 'adam', got {method!r}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    x = init.detach().clone().requires_grad_(True)
    history: list[float] = []
    evaluations = steps * 5 // 4 if method == "lbfgs" else steps
    ticker = bar(
        range(evaluations), desc=f"{method} evaluations", leave=False, **({} if progress else {"disable": True})
    )
    ticks = iter(ticker)

    def closure() -> Tensor:
        opt.zero_grad(set_to_none=True)
        loss = perceptual_objective(
            loss_net, x, content, style, content_weight, style_weight, tv_weight, layer_weights, normalise
        )["total"]
        loss.backward()
        history.append(loss.item())
        next(ticks, None)
        return loss

    if method == "lbfgs":
        opt = torch.optim.LBFGS(
            [x],
            lr=1.0 if lr is None else lr,
            max_iter=steps,
            max_eval=evaluations,
            history_size=50,
            line_search_fn="strong_wolfe",
        )
        opt.step(closure)
    else:
        opt = torch.optim.Adam([x], lr=0.02 if lr is None else lr)
        for _ in range(steps):
            opt.step(closure)
            with torch.no_grad():
                x.clamp_(-1, 1)
    ticker.close()
    return x.detach().clamp(-1, 1), history


# --------------------------------------------------------------------------- keeping pixels in range, coarse to fine


def optimise_in_range(
    loss_net: LossNetwork, init: Tensor, sharpness: float = SHARPNESS, **kwargs
) -> tuple[Tensor, list[float]]:
    """:func:`optimise_image` over z with pixels x = tanh(k z): init (N, C, H, W) -> (image (N, C, H, W), history).

    Same keyword arguments as :func:`optimise_image`; every pixel stays in (-1, 1) throughout, so the returned image
    scores what the history says (no clamp undoes the optimisation). The total variation term, if any, is
    computed on z, a monotone stand-in for x.
    """
    validate.images(init, "init")
    wrapped = TanhPixels(loss_net, sharpness)
    z, history = optimise_image(wrapped, wrapped.to_latent(init), **kwargs)
    return wrapped.to_pixels(z), history


def optimise_multiscale(
    loss_net: LossNetwork,
    init: Tensor,
    sizes: Sequence[int],
    steps: Sequence[int],
    content: Tensor | None = None,
    style: Tensor | None = None,
    content_layers: Sequence[str] = ("relu3_1",),
    style_layers: Sequence[str] | None = None,
    normalise: str = "chw",
    **kwargs,
) -> tuple[Tensor, list[float]]:
    """Coarse to fine: optimise at ``sizes[0]``, upsample, refine at ``sizes[1]``, ...; returns (image, history).

    ``init``: (1, C, H, W), resized to each size; ``content`` / ``style``: images (1, C, H, W) in [-1, 1] (either may
    be None), resized to each size and turned into targets there (the same field of view at every scale);
    ``steps[i]`` iterations at ``sizes[i]`` with :func:`optimise_in_range`; other keyword arguments go to it.
    The coarse stages are cheap (1/4 of the pixels per halving) and lay out the large structures; the last
    refines the detail. ``history`` concatenates every stage's losses.
    """
    from .data import resize

    if len(sizes) == 0 or len(sizes) != len(steps):
        raise ValueError(f"sizes and steps must be non-empty and of equal length, got {list(sizes)} and {list(steps)}")
    if content is None and style is None:
        raise ValueError("give a content image, a style image or both")
    x, history = init, []
    for size, n in zip(sizes, steps):
        x = resize(x, size)
        c = content_targets(loss_net, resize(content, size), content_layers) if content is not None else None
        s = style_targets(loss_net, resize(style, size), style_layers, normalise) if style is not None else None
        x, h = optimise_in_range(loss_net, x, content=c, style=s, normalise=normalise, steps=n, **kwargs)
        history += h
    return x, history
