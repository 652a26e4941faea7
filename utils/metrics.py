"""Metrics for 2-D mixtures as in the mode-collapse literature (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al.
2018).

A sample is *high quality* when it lies within ``n_std`` (3) standard deviations of its nearest mode;
a mode is *captured* when at least one high-quality sample is nearest to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from . import validate


@dataclass(frozen=True)
class ModeReport:
    """The result of :func:`mode_metrics`."""

    modes_captured: int
    n_modes: int
    high_quality: float  # fraction in [0, 1]
    counts: Tensor  # (K,) high-quality samples nearest to each mode

    def __str__(self) -> str:
        return (
            f"{self.modes_captured}/{self.n_modes} modes captured, {100 * self.high_quality:.1f}% high-quality samples"
        )


def nearest_mode(samples: Tensor, modes: Tensor) -> tuple[Tensor, Tensor]:
    """For samples (N, 2) and modes (K, 2): the index (N,) of each sample's nearest mode and the distance (N,) to it."""
    validate.points_2d(samples, "samples")
    validate.points_2d(modes, "modes")
    dist = torch.cdist(samples.float(), modes.float())  # (N, K)
    d, idx = dist.min(dim=1)
    return idx, d


def mode_metrics(samples: Tensor, modes: Tensor, std: float, n_std: float = 3.0) -> ModeReport:
    """Modes captured and fraction of high-quality samples for samples (N, 2) of a mixture with modes (K, 2)."""
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}")
    idx, d = nearest_mode(samples.detach().cpu(), modes.detach().cpu())
    good = d < n_std * std
    counts = torch.bincount(idx[good], minlength=modes.shape[0])
    hq = float(good.float().mean()) if len(good) else 0.0
    return ModeReport(int((counts > 0).sum()), int(modes.shape[0]), hq, counts)


def mode_histogram_kl(samples: Tensor, modes: Tensor, std: float, n_std: float = 3.0) -> float:
    """KL(p || uniform) in nats of the histogram p of high-quality samples (N, 2) over the K modes (K, 2).

    0 when every mode gets the same share, log K when all of them land on one mode (or none is high quality).
    """
    counts = mode_metrics(samples, modes, std, n_std).counts.double()
    k = counts.numel()
    if counts.sum() == 0:
        return float(torch.log(torch.tensor(float(k))))
    p = counts / counts.sum()
    nz = p > 0
    return float((p[nz] * torch.log(p[nz] * k)).sum())


def frechet_distance(features_a: Tensor, features_b: Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, F) and (M, F), as in FID.

    ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)), computed in float64.
    """
    for t, name in ((features_a, "features_a"), (features_b, "features_b")):
        validate.tensor(t, name)
        if t.dim() != 2 or t.shape[0] < 2:
            raise ValueError(f"{name} must have shape (N, F) with N >= 2, got {tuple(t.shape)}")
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(f"feature sizes differ: {features_a.shape[1]} vs {features_b.shape[1]}")
    a, b = features_a.detach().double().cpu(), features_b.detach().double().cpu()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    # Tr((S_a S_b)^(1/2)) = sum of sqrt(eigenvalues) of S_a^(1/2) S_b S_a^(1/2), a symmetric PSD matrix.
    vals, vecs = torch.linalg.eigh(cov_a)
    root_a = vecs @ torch.diag(vals.clamp_min(0).sqrt()) @ vecs.T
    middle = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp_min(0).sqrt().sum()
    return float((mu_a - mu_b).square().sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * middle)


# --------------------------------------------------------------------------- images scored by a classifier
@torch.no_grad()
def _classifier_outputs(classifier: torch.nn.Module, images: Tensor, features: bool, batch_size: int = 512) -> Tensor:
    """Logits (N, K) or features (N, F) of images (N, C, H, W), in eval mode and batches, on the CPU."""
    validate.images(images, "images")
    was_training = classifier.training
    classifier.eval()
    dev = next(classifier.parameters()).device
    fn = classifier.features if features else classifier
    out = torch.cat([fn(images[i : i + batch_size].to(dev)).cpu() for i in range(0, len(images), batch_size)])
    classifier.train(was_training)
    return out


def classify(classifier: torch.nn.Module, images: Tensor) -> Tensor:
    """The classifier's predicted class (N,) int64 for images (N, C, H, W) in [-1, 1]."""
    return _classifier_outputs(classifier, images, features=False).argmax(dim=1)


def classifier_accuracy(classifier: torch.nn.Module, images: Tensor, labels: Tensor) -> float:
    """Fraction in [0, 1] of images (N, C, H, W) that the classifier assigns to their labels (N,)."""
    validate.tensor(labels, "labels")
    if labels.shape != (images.shape[0],):
        raise ValueError(f"labels must have shape ({images.shape[0]},), got {tuple(labels.shape)}")
    return float((classify(classifier, images) == labels.cpu()).float().mean())


def class_histogram(classifier: torch.nn.Module, images: Tensor, n_classes: int = 10) -> Tensor:
    """How many of the images (N, C, H, W) the classifier puts in each class: counts (n_classes,) int64."""
    validate.positive_int(n_classes, "n_classes")
    return torch.bincount(classify(classifier, images), minlength=n_classes)


def histogram_kl(counts: Tensor) -> float:
    """KL(p || uniform) in nats of a histogram of counts (K,): 0 when uniform, log K when everything is in one bin."""
    validate.tensor(counts, "counts")
    p = counts.double().flatten()
    if p.numel() == 0 or p.sum() <= 0:
        raise ValueError("counts must be a non-empty histogram with a positive total")
    p = p / p.sum()
    nz = p > 0
    return float((p[nz] * torch.log(p[nz] * p.numel())).sum())


def classifier_fid(classifier: torch.nn.Module, images_a: Tensor, images_b: Tensor) -> float:
    """Fréchet distance between the classifier's features of two image sets (N, C, H, W) and (M, C, H, W)
    ("digits FID": FID with a small digit classifier in place of Inception)."""
    fa = _classifier_outputs(classifier, images_a, features=True)
    fb = _classifier_outputs(classifier, images_b, features=True)
    return frechet_distance(fa, fb)


def diversity(images: Tensor) -> float:
    """Mean L2 distance between all pairs of images (N, ...), N >= 2: 0 when every image is the same."""
    validate.tensor(images, "images")
    if images.shape[0] < 2:
        raise ValueError(f"diversity needs at least 2 images, got {images.shape[0]}")
    return float(torch.pdist(images.flatten(1).double()).mean())
