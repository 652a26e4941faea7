"""Saved code has one source: the notebook cell marked ``# @save utils/<module>.py`` (scripts/save_code.py).

Like d2l, a notebook is where a component is taught and ``utils`` is where later notebooks import it from. Running
the save command must change nothing, a saved name must have one home, and an edited cell must reach utils.
"""

import ast
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
spec = importlib.util.spec_from_file_location("save_code", ROOT / "scripts" / "save_code.py")
save_code = importlib.util.module_from_spec(spec)
spec.loader.exec_module(save_code)


def test_utils_holds_exactly_the_notebooks_saved_code(capsys):
    assert save_code.main.__module__ == "save_code"
    import sys

    argv, sys.argv = sys.argv, ["save_code.py", "--check"]
    try:
        code = save_code.main()
    finally:
        sys.argv = argv
    assert code == 0, capsys.readouterr().out


def test_some_notebooks_save_code_into_several_modules():
    regions = save_code.expected_regions()
    defs = [n for p in regions.values() for code in p.values() for n in ast.parse(code).body if hasattr(n, "name")]
    assert len(regions) >= 10 and len(defs) >= 40


def test_a_saved_name_has_one_home_in_utils():
    homes: dict[str, list[str]] = {}
    for path in sorted((ROOT / "utils").rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                homes.setdefault(node.name, []).append(path.relative_to(ROOT).as_posix())
    for nb_path in NOTEBOOKS:
        for target, code in save_code.saved_cells(nb_path):
            for node in ast.parse(code).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    assert homes.get(node.name) == [target], (
                        f"{nb_path.name}: {node.name} lives in {homes.get(node.name)}"
                    )


def test_an_edited_cell_reaches_its_module_and_a_hand_edit_is_caught():
    module = "utils/losses.py"
    text = (ROOT / module).read_text()
    parts = save_code.expected_regions()[module]
    nb = next(iter(parts))
    edited = {**parts, nb: parts[nb].replace("def ", "def renamed_", 1)}

    def write(text: str, parts: dict[str, str]) -> str:
        return save_code.formatted(save_code.render(text, module, parts), ROOT / module)

    out = write(text, edited)
    assert "def renamed_" in out and out != text
    assert write(text, parts) == text  # unchanged cells: nothing to write
    hand_edit = text.replace(parts[nb], parts[nb] + "\nX = 1\n")
    assert hand_edit != text and write(hand_edit, parts) == text  # the notebook wins over a hand edit in utils


def test_missing_markers_and_a_header_without_target_are_explained(tmp_path):
    with pytest.raises(SystemExit, match="has no markers"):
        save_code.render("import torch\n", "utils/losses.py", {"notebooks/02_x.ipynb": "def f():\n    pass"})
    nb = {"cells": [{"cell_type": "code", "source": ["# @save\n", "def f():\n", "    pass\n"]}]}
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb))
    with pytest.raises(SystemExit, match="write the target module"):
        save_code.saved_cells(path)
