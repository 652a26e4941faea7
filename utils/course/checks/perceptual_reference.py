"""The stored reference values of notebook 08's checks: inputs drawn once from a seed, outputs of utils.perceptual.

They live in ``reference/perceptual.json`` (so nothing depends on a machine's random numbers); regenerate the file
with ``python scripts/make_check_references.py`` (it calls :func:`write_perceptual_reference`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

# The stored reference values of the perceptual-loss exercises live in a file (inputs drawn once from a seed and
# stored with them, so nothing depends on a machine's random numbers): regenerate it with
# ``python scripts/make_check_references.py`` (it calls write_perceptual_reference, which uses utils.perceptual).
PERCEPTUAL_REFERENCE = Path(__file__).resolve().parent / "reference" / "perceptual.json"
PERCEPTUAL_SEED = 2016
_PERC_LAYER_WEIGHTS = {"relu1_2": 0.5, "relu2_2": 2.0, "relu3_3": 0.25}


def perceptual_reference_values(seed: int = PERCEPTUAL_SEED) -> dict:
    """The fixed inputs (drawn from ``seed``) and the reference outputs (from utils.perceptual) of the 08 checks.

    Every shape is non-square on purpose (C != H W), so F^T F cannot pass for F F^T; ``gram_square`` is square
    (C = H W) so that the transpose is caught by value too.
    """
    from ... import perceptual as P

    g = torch.Generator().manual_seed(seed)
    gram_in = torch.randn(2, 3, 4, 5, generator=g)
    gram_square = torch.randn(1, 4, 2, 2, generator=g)
    feats = {
        "relu1_2": torch.rand(2, 3, 6, 4, generator=g),
        "relu2_2": torch.rand(2, 5, 3, 2, generator=g),
        "relu3_3": torch.rand(2, 4, 2, 3, generator=g),
    }
    style_feats = {k: torch.rand(1, *v.shape[1:], generator=g) for k, v in feats.items()}  # the style image's
    targets = {k: P.gram_matrix(v) for k, v in style_feats.items()}
    content_feat, content_target = torch.rand(2, 4, 3, 5, generator=g), torch.rand(1, 4, 3, 5, generator=g)
    tv_x = torch.rand(2, 3, 5, 7, generator=g) * 2 - 1
    return {
        "seed": seed,
        "gram": {"features": gram_in, "expected": P.gram_matrix(gram_in)},
        "gram_square": {"features": gram_square, "expected": P.gram_matrix(gram_square)},
        "style": {
            "feats": feats,
            "targets": targets,
            "layer_weights": dict(_PERC_LAYER_WEIGHTS),
            "expected": P.style_loss(feats, targets, _PERC_LAYER_WEIGHTS),
        },
        "content": {
            "feat": content_feat,
            "target": content_target,
            "expected": P.content_loss(content_feat, content_target),
        },
        "tv": {"x": tv_x, "expected": P.total_variation(tv_x)},
    }


def _to_json(value: object) -> object:
    """Tensors as {shape, values}, recursively through dicts."""
    if isinstance(value, Tensor):
        return {"shape": list(value.shape), "values": value.flatten().tolist()}
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    return value


def _from_json(value: object) -> object:
    """The inverse of :func:`_to_json`: {shape, values} back to float32 tensors."""
    if isinstance(value, dict) and set(value) == {"shape", "values"}:
        return torch.tensor(value["values"], dtype=torch.float32).reshape(value["shape"])
    if isinstance(value, dict):
        return {k: _from_json(v) for k, v in value.items()}
    return value


def write_perceptual_reference(path: str | Path = PERCEPTUAL_REFERENCE) -> None:
    """(Re)write the stored reference values of the 08 checks (see :func:`perceptual_reference_values`)."""
    import json

    data = {
        "about": "Stored reference values of utils.course.checks.check_gram_matrix / check_style_loss / "
        "check_content_loss / check_total_variation: inputs drawn once from the seed, outputs from "
        "utils.perceptual. Regenerate with: python scripts/make_check_references.py",
        **_to_json(perceptual_reference_values()),
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=1) + "\n")


def load_perceptual_reference(path: str | Path = PERCEPTUAL_REFERENCE) -> dict:
    """The stored inputs and reference outputs of the 08 checks, as tensors."""
    import json

    if not Path(path).is_file():
        raise FileNotFoundError(
            f"the stored reference values {path} are missing: reinstall the course or run "
            "python scripts/make_check_references.py"
        )
    return _from_json(json.loads(Path(path).read_text()))


__all__ = [
    "PERCEPTUAL_REFERENCE",
    "PERCEPTUAL_SEED",
    "load_perceptual_reference",
    "perceptual_reference_values",
    "write_perceptual_reference",
]
