"""Notebook 10's finished result and diagrams do what the notebook says.

* ``deepfake_detector.pt`` (scripts/train_detector.py): the high-pass detector of section 1, trained on fakes of
  generator A only. On the held-out faces it scores what notebooks/data/deepfake_detector.json records, and well
  above chance on the generator it trained against.
* ``notebooks/figures/10_*.svg`` (scripts/draw_applications_figures.py): the files are what the script draws, small,
  valid SVG, and shown in notebook 10.
"""

import importlib.util
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch

from utils import deepfake
from utils.course import checkpoints

ROOT = Path(__file__).resolve().parents[1]
RESULTS = json.loads((ROOT / "notebooks" / "data" / "deepfake_detector.json").read_text())
NOTEBOOK = ROOT / "notebooks" / "10_applications.ipynb"


def script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


train_detector = script("train_detector")
draw = script("draw_applications_figures")


@pytest.fixture(scope="module")
def scores():
    detector = checkpoints.load_checkpoint(deepfake.face_detector(high_pass_input=True), train_detector.NAME).eval()
    real, fakes = train_detector.test_sets(train_detector.load_generators())
    return {label: deepfake.detection_accuracy(detector, real, fake) for label, fake in fakes.items()}


def test_the_shipped_detector_scores_what_its_record_says(scores):
    assert RESULTS["checkpoint"] == train_detector.NAME and RESULTS["steps"] == train_detector.STEPS
    for label, acc in scores.items():
        for key, value in acc.items():
            assert value == pytest.approx(RESULTS["accuracy"][label][key], abs=2e-3), (label, key, acc)


def test_the_shipped_detector_catches_the_generator_it_trained_on(scores):
    assert scores["A"]["overall"] >= 0.9, f"balanced accuracy on generator A: {scores['A']}"
    assert scores["A"]["real"] >= 0.8 and scores["A"]["fake"] >= 0.8, scores["A"]


def test_the_detector_recipe_is_the_notebooks():
    """The script trains the notebook's high-pass detector: same builder, steps, seed and test protocol."""
    cells = ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    code = "\n".join(cells)
    assert "DETECTOR_STEPS = pick(learner=3000" in code and train_detector.STEPS == 3000
    assert 'deepfake.face_detector(high_pass_input=(kind == "high-pass"))' in code
    assert "torch.Generator().manual_seed(7)" in code and "seed=99" in code  # the test set of section 1
    assert '"deepfake_detector.pt"' in cells[1] and cells[1].startswith("# The finished result")


def test_a_dry_run_trains_and_writes_nothing(monkeypatch, capsys):
    before = {p: p.stat().st_mtime_ns for p in (checkpoints.CHECKPOINTS / "SHA256SUMS", train_detector.OUT)}
    monkeypatch.setattr("sys.argv", ["train_detector.py", "--steps", "2", "--dry-run"])
    monkeypatch.setenv("TQDM_DISABLE", "1")
    torch_threads = torch.get_num_threads()
    try:
        train_detector.main()
    finally:
        torch.set_num_threads(torch_threads)
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :])["steps"] == 2
    assert {p: p.stat().st_mtime_ns for p in before} == before, "a dry run must not write the checkpoint or record"


def test_the_diagrams_are_what_the_script_draws(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["draw_applications_figures.py", "--out", str(tmp_path)])
    draw.main()
    for name in draw.NAMES:
        shipped = draw.FIGURES / name
        assert shipped.is_file(), f"{name} is missing: run python scripts/draw_applications_figures.py"
        assert (tmp_path / name).read_bytes() == shipped.read_bytes(), f"{name} is stale: rerun the script"
        assert shipped.stat().st_size < 150_000, f"{name}: {shipped.stat().st_size:,} bytes"
        root = ET.parse(shipped).getroot()
        assert root.tag in ("svg", "{http://www.w3.org/2000/svg}svg")


def test_notebook_10_shows_each_diagram():
    markdown = "".join(
        "".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "markdown"
    )
    shown = set(re.findall(r"!\[[^\]]*\]\(figures/(10_[^)\s]+\.svg)\)", markdown))
    assert shown == set(draw.NAMES)
