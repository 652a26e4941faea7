"""Conditional Generative Models, from scratch: the small package the course's notebooks stand on.

One module per concept: ``settings`` (quick mode, seeds, device, timing), ``data``, ``download``, ``models``,
``losses``, ``train``, ``metrics``, ``viz``, ``checks`` (the exercises' automatic checks) and ``widgets``
(imported on demand: ``from utils import widgets``).
"""
from . import checks, data, download, losses, metrics, models, settings, train, viz
from .settings import describe, device, pick, progress, quick_mode, seed_everything, timer

__all__ = [
    "checks", "data", "download", "losses", "metrics", "models", "settings", "train", "viz",
    "describe", "device", "pick", "progress", "quick_mode", "seed_everything", "timer",
]
