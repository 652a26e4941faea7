#!/usr/bin/env python3
"""(Re)write the stored reference values of the exercise checks that keep them in a file.

    python scripts/make_check_references.py          # writes utils/course/checks/reference/perceptual.json
    python scripts/make_check_references.py --check  # exit 1 if the stored file differs from what utils computes now

The inputs are drawn once from a fixed seed and stored with the outputs (see
utils.course.checks.perceptual_reference.perceptual_reference_values), so the checks never depend on a
machine's random numbers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from utils.course import checks  # noqa: E402


def differences() -> list[str]:
    """The entries of the stored file that differ from a fresh computation."""
    fresh = checks.perceptual_reference_values()
    stored = checks.load_perceptual_reference()
    out = []

    def walk(a: object, b: object, where: str) -> None:
        if isinstance(a, dict):
            for k in a:
                walk(a[k], b.get(k) if isinstance(b, dict) else None, f"{where}.{k}")
        elif isinstance(a, torch.Tensor):
            if not isinstance(b, torch.Tensor) or a.shape != b.shape or not torch.allclose(a, b, rtol=1e-5, atol=1e-7):
                out.append(where)
        elif a != b:
            out.append(where)

    walk(fresh, stored, "perceptual")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    if args.check:
        diff = differences()
        print("stored reference values are up to date" if not diff else f"out of date: {diff}")
        return 1 if diff else 0
    checks.write_perceptual_reference()
    print(f"wrote {checks.PERCEPTUAL_REFERENCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
