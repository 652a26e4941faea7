"""The shipped checkpoints: each file listed with its SHA-256 in SHA256SUMS, verified before it is loaded."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch import nn

#: Where the course's checkpoints live, each listed with its SHA-256 in SHA256SUMS (the format of ``sha256sum``).
CHECKPOINTS = Path(__file__).resolve().parents[2] / "notebooks" / "checkpoints"


# >>> saved from notebooks/appendix_gpu_and_checkpoints.ipynb (edit it there, then run `make save`) >>>
def verify_checkpoint(name: str, folder: str | Path = CHECKPOINTS) -> Path:
    """The path of checkpoint `name` after checking its SHA-256 against folder/SHA256SUMS."""
    folder = Path(folder)
    sums_file = folder / "SHA256SUMS"
    if not sums_file.is_file():
        raise FileNotFoundError(
            f"{sums_file} is missing: a checkpoint folder lists each file's SHA-256 there "
            f"(checkpoints.save_checkpoint writes it)"
        )
    sums = dict(reversed(line.split()) for line in sums_file.read_text().splitlines() if line.strip())
    path = folder / name
    if name not in sums:
        raise ValueError(f"{name} is not listed in {sums_file}")
    if not path.is_file():
        raise FileNotFoundError(
            f"checkpoint {path} is missing: restore it from git (git checkout -- {path}) or "
            f"retrain it with the script in scripts/ that wrote it"
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sums[name]:
        raise ValueError(
            f"checkpoint {path} is altered: SHA-256 {digest[:16]}..., expected {sums[name][:16]}...; "
            f"restore it from git or retrain it with the script in scripts/ that wrote it"
        )
    return path


def load_checkpoint(module: nn.Module, name: str, folder: str | Path = CHECKPOINTS) -> nn.Module:
    """Load a verified float16 state dict into `module` (as float32)."""
    state = torch.load(verify_checkpoint(name, folder), map_location="cpu", weights_only=True)
    module.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return module


# <<< end of the code saved from notebooks/appendix_gpu_and_checkpoints.ipynb <<<


def save_checkpoint(module: nn.Module, name: str, folder: str | Path = CHECKPOINTS) -> Path:
    """Save ``module``'s state dict as folder/name with floating tensors in float16 (half the bytes) and record its
    SHA-256 in folder/SHA256SUMS, keeping the other files' lines."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    torch.save(
        {k: (v.half() if v.is_floating_point() else v).clone().cpu() for k, v in module.state_dict().items()}, path
    )
    sums_file = folder / "SHA256SUMS"
    lines = [
        ln
        for ln in (sums_file.read_text().splitlines() if sums_file.exists() else [])
        if ln.strip() and ln.split()[-1] != name
    ]
    lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {name}")
    sums_file.write_text("\n".join(lines) + "\n")
    return path
