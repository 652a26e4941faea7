"""Conditional Generative Models, from scratch: the small package the course's notebooks stand on.

The lessons, in course order (most of their code is written in a notebook cell marked ``# @save``):
``models``, ``losses``, ``train``, ``metrics``, ``viz`` (GAN basics, notebooks 01, 02 and 04), ``remedies`` (mode
collapse, 03), ``pix2pix`` and ``fcn_score`` (05), ``superres`` (06), ``cyclegan`` (07), ``perceptual`` (loss
network, Gram matrices, style transfer, 08), ``faststyle`` (Johnson et al.'s network, 09), and the applications of
notebook 10: ``deepfake``, ``deidentify``, ``passcode`` and ``video``.

Beside them: ``settings`` (quick mode, seeds, device, timing), ``validate`` (argument checks), ``data`` (datasets:
bundled, procedural and downloaded), ``course`` (exercise checks, widgets, the machine check, checkpoints) and
``scale`` (GPU fast path, benchmark, multi-GPU training), which no lesson imports.
"""

from . import data, losses, metrics, models, settings, train, viz
from .settings import describe, device, pick, progress, quick_mode, seed_everything, timer

__all__ = [
    "data",
    "losses",
    "metrics",
    "models",
    "settings",
    "train",
    "viz",
    "describe",
    "device",
    "pick",
    "progress",
    "quick_mode",
    "seed_everything",
    "timer",
]
