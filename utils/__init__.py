"""Conditional Generative Models, from scratch: the small package the course's notebooks stand on.

One module per concept: ``settings`` (quick mode, seeds, device, timing), ``data``, ``download``, ``models``,
``losses``, ``train``, ``metrics``, ``viz`` and ``checks`` (the exercises' automatic checks); imported on demand
(``from utils import widgets``): ``widgets``, ``remedies`` (mode-collapse remedies, notebook 03), ``facades``
(procedural label-map/photo pairs), ``pix2pix`` (U-Net, PatchGAN, the pix2pix losses and loop, notebook 05),
``segment`` (the FCN-score analogue, 05), ``superres`` (06), ``cyclegan`` (07), ``perceptual`` (the VGG loss network,
Gram matrices, optimisation-based style transfer, 08), ``faststyle`` (Johnson et al.'s transformation network, 09),
and notebook 10's applications: ``deepfake`` (face generators and a detector), ``deid`` (a face recogniser and
de-identification against it), ``passcode`` (passcode-conditioned anonymisation) and ``video`` (procedural videos,
temporal flicker, a generator conditioned on its previous frame); ``environment`` checks the machine for the start
page (notebook 00). Past the notebooks: ``fast`` (the GPU fast path: bf16, channels-last, torch.compile, fused Adam,
CUDA graphs), ``bench`` (``python -m utils.bench``: training images per second, plain vs fast) and ``distributed``
(torchrun, DistributedDataParallel, sharded batches, checkpoints that resume; used by scripts/train_distributed.py).
"""
from . import checks, data, download, losses, metrics, models, settings, train, viz
from .settings import describe, device, pick, progress, quick_mode, seed_everything, timer

__all__ = [
    "checks", "data", "download", "losses", "metrics", "models", "settings", "train", "viz",
    "describe", "device", "pick", "progress", "quick_mode", "seed_everything", "timer",
]
