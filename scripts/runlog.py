"""The work folder of one training run, and the shipped results it adds to (scripts/train_cyclegan.py and
scripts/train_pix2pix.py): a run writes only into its own folder, later stages read only what it wrote, and a
seed's record never replaces another run's."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

MANIFEST = "written.txt"  # the logs written by this run's stages, one path (relative to the work folder) a line


def work_folder(work: Path | None, prefix: str) -> Path:
    """The work folder of this run: ``work`` if given, else a fresh temporary folder (never an older run's)."""
    if work is None:
        return Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    return work


def written(work: Path) -> list[str]:
    """The logs this run's stages wrote into ``work`` (relative paths, in writing order)."""
    manifest = work / MANIFEST
    return list(dict.fromkeys(line for line in manifest.read_text().splitlines() if line)) if manifest.exists() else []


def write_log(work: Path, rel: str, log: dict) -> None:
    """Write a JSON log into this run's work folder and list it in the manifest, so that later stages gather it."""
    path = work / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(log, indent=1))
    if rel not in written(work):
        with open(work / MANIFEST, "a") as f:
            f.write(rel + "\n")


def read_log(work: Path, rel: str) -> dict:
    """A JSON log written by a stage of this run (listed in the manifest); anything else is refused."""
    if rel not in written(work):
        raise SystemExit(
            f"no {rel} written by this run in {work}: run the stage that writes it first, giving every stage the "
            f"same --work {work}"
        )
    return json.loads((work / rel).read_text())


def add_seed_record(out: dict, seed: int, steps: int, command: str, scores: dict) -> str:
    """Add another seed's scores to the results ``out`` without replacing another run's record; return its key.

    Records are keyed by (config, seed): the shipped recipe's seeds go to "other_seeds" under str(seed) (what the
    notebooks average over), other step counts to "other_runs" under "seed<S>_steps<N>". A rerun of the same run
    replaces its own record; a record under that key from a different configuration is refused.
    """
    shipped_steps = max(out["steps"].values())
    config = {"steps": steps}
    table, key = ("other_seeds", str(seed)) if steps == shipped_steps else ("other_runs", f"seed{seed}_steps{steps}")
    old = out.setdefault(table, {}).get(key)
    old_config = None if old is None else old.get("config", {"steps": shipped_steps})  # older records: the recipe
    if old_config is not None and old_config != config:
        raise SystemExit(f"{table}[{key!r}] holds a run with {old_config}, not {config}: refusing to replace it")
    out[table][key] = {"command": command, "seed": seed, "config": config, "scores": scores}
    return f"{table}[{key!r}]"
