"""The training scripts add a run's record to the shipped results without overwriting another run's record."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runlog = script("runlog")


def test_a_seed_record_never_replaces_another_run():
    add = runlog.add_seed_record
    out = {"steps": {"shipped": 3000}}
    assert add(out, 1, 3000, "cmd a", {"kept": 0.6}) == "other_seeds['1']"
    assert add(out, 1, 3000, "cmd a again", {"kept": 0.7}) == "other_seeds['1']"  # its own rerun may replace it
    assert out["other_seeds"]["1"]["scores"] == {"kept": 0.7}
    assert add(out, 1, 500, "short run", {"kept": 0.2}) == "other_runs['seed1_steps500']"  # another config: apart
    assert out["other_seeds"]["1"]["scores"] == {"kept": 0.7}
    out["other_runs"]["seed2_steps500"] = {"seed": 2, "config": {"steps": 400}, "scores": {}}
    with pytest.raises(SystemExit, match="refusing to replace"):
        add(out, 2, 500, "clash", {"kept": 0.1})


def test_a_run_reads_only_the_logs_it_wrote(tmp_path):
    work = runlog.work_folder(None, "test-")
    assert work.is_dir() and not any(work.iterdir())  # a fresh folder, never an older run's
    (tmp_path / "stale.json").write_text("{}")  # an older run's file in the same folder
    runlog.write_log(tmp_path, "seed1.json", {"kept": 0.5})
    assert runlog.read_log(tmp_path, "seed1.json") == {"kept": 0.5}
    with pytest.raises(SystemExit, match="no stale.json written by this run"):
        runlog.read_log(tmp_path, "stale.json")
    work.rmdir()
