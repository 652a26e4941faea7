"""Input checks shared by the course's functions: clear errors that name the expected shape or range."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor


def tensor(x: object, name: str) -> Tensor:
    """Raise TypeError unless ``x`` is a torch.Tensor."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    return x


def points_2d(x: object, name: str = "points") -> Tensor:
    """Check a batch of 2-D points: a float tensor of shape (N, 2)."""
    x = tensor(x, name)
    if x.dim() != 2 or x.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2), got {tuple(x.shape)}")
    return x


def images(x: object, name: str = "images", check_range: bool = True) -> Tensor:
    """Check an image batch: shape (N, C, H, W) with C in {1, 3} and values in [-1, 1]."""
    x = tensor(x, name)
    if x.dim() != 4:
        hint = " (a single image? add a batch dimension with x.unsqueeze(0))" if x.dim() == 3 else ""
        raise ValueError(f"{name} must have shape (N, C, H, W), got {tuple(x.shape)}{hint}")
    if x.shape[1] not in (1, 3):
        raise ValueError(f"{name} must have 1 or 3 channels in dim 1, got shape {tuple(x.shape)}")
    if check_range and x.numel():
        lo, hi = float(x.min()), float(x.max())
        if lo < -1.001 or hi > 1.001:
            raise ValueError(
                f"{name} must lie in [-1, 1] (the course's image range), got values in [{lo:.3g}, {hi:.3g}]; "
                "map [0, 1] images with x * 2 - 1"
            )
    return x


def logits(x: object, name: str) -> Tensor:
    """Check discriminator outputs: a floating-point tensor (raw logits, any shape)."""
    x = tensor(x, name)
    if not torch.is_floating_point(x):
        raise TypeError(f"{name} must be a floating-point tensor of logits, got dtype {x.dtype}")
    return x


def positive_int(n: object, name: str) -> int:
    """Check a positive integer argument."""
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"{name} must be a positive int, got {n!r}")
    return n


def one_of(value: object, choices: tuple, name: str) -> object:
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def feature_maps(x: object, name: str = "features") -> Tensor:
    """Check a batch of feature maps: shape (B, C, H, W), any number of channels."""
    x = tensor(x, name)
    if x.dim() != 4:
        raise ValueError(f"{name} must have shape (B, C, H, W), got {tuple(x.shape)}")
    return x


def same_shape(x: Tensor, y: Tensor, x_name: str, y_name: str) -> None:
    """Check two tensors that are compared element by element."""
    tensor(x, x_name)
    tensor(y, y_name)
    if x.shape != y.shape:
        raise ValueError(f"{x_name} and {y_name} must have one shape, got {tuple(x.shape)} and {tuple(y.shape)}")


def loss_terms(use_gan: bool, use_l1: bool, d_fake_logits: Tensor | None) -> None:
    """Check the pix2pix ablation flags: at least one term, and D's logits when the GAN term is on."""
    if not (use_gan or use_l1):
        raise ValueError("use_gan and use_l1 are both False: nothing to train")
    if use_gan and d_fake_logits is None:
        raise ValueError("use_gan=True needs D's logits on the generated pairs")


def style_layers(feats: Mapping[str, Tensor], target_grams: Mapping[str, Tensor], weights: Mapping | None) -> None:
    """Check that the style targets name layers the features have, and the weights name layers the targets have."""
    if not target_grams:
        raise ValueError("target_grams is empty: give at least one layer's target Gram matrix")
    missing = [name for name in target_grams if name not in feats]
    if missing:
        raise ValueError(f"feats lacks the layer(s) {missing} of target_grams; feats has {list(feats)}")
    extra = [name for name in (weights or {}) if name not in target_grams]
    if extra:
        raise ValueError(f"layer_weights names layer(s) {extra} that target_grams lacks ({list(target_grams)})")


def gram_target(target: object, gram: Tensor, name: str) -> Tensor:
    """Check a target Gram matrix (B or 1, C, C) against the features' Gram matrix (B, C, C)."""
    target = tensor(target, name)
    if target.dim() != 3 or target.shape[1:] != gram.shape[1:] or target.shape[0] not in (1, gram.shape[0]):
        raise ValueError(
            f"{name} must have shape (B or 1, {gram.shape[1]}, {gram.shape[2]}) "
            f"to match the features' Gram matrix {tuple(gram.shape)}, got {tuple(target.shape)}"
        )
    return target
