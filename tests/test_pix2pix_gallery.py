"""Notebook 05's gallery checkpoints (scripts/train_pix2pix_gallery.py): edges -> photo and grey -> colour.

Each shipped generator must load (its SHA-256 checked), reproduce the held-out L1 error stored in
notebooks/data/pix2pix_gallery.json, and beat every baseline there by at least 10 %: the input itself, an
untrained U-Net and the training photos' mean colour. The script itself runs end to end on a few steps into a
temporary folder.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path

import pytest
import torch

from utils.course import checkpoints

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("train_pix2pix_gallery", ROOT / "scripts" / "train_pix2pix_gallery.py")
gallery = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gallery)

STORED = json.loads(gallery.OUT.read_text())


@functools.cache
def held_out(task: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The held-out (input, photo) pairs of ``task`` the results file was scored on, made once per test run."""
    return gallery.pairs(task, gallery.N_TEST, gallery.TEST_SEED).tensors


def test_the_results_file_describes_both_tasks_and_the_held_out_pairs():
    assert set(STORED["tasks"]) == set(gallery.TASKS)
    assert STORED["n_test"] == gallery.N_TEST and STORED["test_seed"] == gallery.TEST_SEED != gallery.TRAIN_SEED
    for task, record in STORED["tasks"].items():
        assert record["checkpoint"] == gallery.checkpoint_name(task)
        assert record["steps"] == gallery.STEPS, f"{task}: the shipped checkpoint is not the shipped recipe"
        # CPU time on one thread: the wall time depends on what else the machine ran meanwhile
        assert record["train_cpu_seconds"] <= 600, f"{task}: {record['train_cpu_seconds']:.0f} CPU s, over 10 min"
        assert set(record["baselines"]) == {"identity", "untrained", "mean_colour"}


@pytest.mark.parametrize("task", list(gallery.TASKS))
def test_the_shipped_generator_beats_its_baselines_on_held_out_pairs(task):
    record = STORED["tasks"][task]
    path = checkpoints.verify_checkpoint(record["checkpoint"])
    assert path.stat().st_size == record["bytes"] < 5e6
    G = checkpoints.load_checkpoint(gallery.generator(task), record["checkpoint"])
    inputs, photos = held_out(task)
    error = gallery.l1(gallery.evaluate(G, inputs), photos)
    assert abs(error - record["l1_error"]) < 1e-3, f"{task}: L1 {error:.4f}, stored {record['l1_error']:.4f}"
    best = min(record["baselines"].values())
    assert error < 0.9 * best, f"{task}: L1 {error:.3f} is not 10 % below the best baseline {best:.3f}"
    fresh = gallery.baselines(task, inputs, photos, gallery.pairs(task, 16, gallery.TRAIN_SEED).tensors[1])
    assert abs(fresh["identity"] - record["baselines"]["identity"]) < 1e-6
    assert abs(fresh["untrained"] - record["baselines"]["untrained"]) < 1e-3


def test_the_two_tasks_are_different_models():
    """Swapping the checkpoints must show: each generator is worse on the other task's pairs."""
    G = {t: checkpoints.load_checkpoint(gallery.generator(t), STORED["tasks"][t]["checkpoint"]) for t in gallery.TASKS}
    for task, other in (("edges", "colour"), ("colour", "edges")):
        inputs, photos = held_out(task)
        own, swapped = (gallery.l1(gallery.evaluate(G[t], inputs), photos) for t in (task, other))
        assert own < swapped, f"{task}: its own model {own:.3f}, the {other} model {swapped:.3f}"


def test_the_script_runs_and_keeps_the_other_tasks_record(tmp_path, monkeypatch):
    monkeypatch.setattr(gallery, "N_TRAIN", 16)  # a smoke test: few pairs, two steps
    monkeypatch.setattr(gallery, "N_TEST", 8)
    out = tmp_path / "gallery.json"
    out.write_text(json.dumps({"tasks": {"edges": {"kept": True}}}))
    argv = ["--task", "colour", "--steps", "2", "--threads", str(torch.get_num_threads())]
    argv += ["--checkpoints", str(tmp_path / "ck"), "--json", str(out)]
    assert gallery.main(argv) == 0
    stored = json.loads(out.read_text())
    assert stored["tasks"]["edges"] == {"kept": True}
    record = stored["tasks"]["colour"]
    assert record["steps"] == 2 and record["checkpoint"] == "pix2pix_colour.pt"
    assert "--steps 2" in record["command"]
    assert (tmp_path / "ck" / "SHA256SUMS").read_text().split() == [record["sha256"], "pix2pix_colour.pt"]
    G = checkpoints.load_checkpoint(gallery.generator("colour"), "pix2pix_colour.pt", tmp_path / "ck")
    assert isinstance(G, torch.nn.Module)
    for name in ("identity", "untrained", "mean_colour"):
        assert record["baselines"][name] > 0
