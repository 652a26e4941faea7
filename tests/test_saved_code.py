"""Code a notebook builds from scratch and marks ``#@save`` must be identical to its reusable copy in utils.

Like d2l, the notebooks are where a component is taught; ``utils`` is where later notebooks import it from.
This test parses both and compares them statement by statement (docstrings and code, not formatting).
"""
import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def utils_definitions() -> dict[str, list[tuple[str, ast.AST]]]:
    """Every top-level function and class in utils/*.py: name -> [(module, node), ...] (one per module)."""
    found: dict[str, list[tuple[str, ast.AST]]] = {}
    for path in sorted((ROOT / "utils").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                found.setdefault(node.name, []).append((path.name, node))
    return found


def saved_definitions(nb_path: Path) -> list[ast.AST]:
    """Top-level functions and classes in the notebook's cells marked #@save."""
    nodes = []
    for cell in json.loads(nb_path.read_text())["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and src.lstrip().startswith("#@save"):
            nodes += [n for n in ast.parse(src).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    return nodes


def test_some_notebooks_save_code():
    assert sum(len(saved_definitions(p)) for p in NOTEBOOKS) >= 5


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_code_is_identical_in_utils(nb_path):
    defs = utils_definitions()
    for node in saved_definitions(nb_path):
        assert node.name in defs, f"{nb_path.name}: {node.name} is marked #@save but utils has no such definition"
        # one home per saved name: a second utils function of that name would leave "the copy in utils" ambiguous
        assert len(defs[node.name]) == 1, (f"{nb_path.name}: {node.name} is marked #@save and defined in several utils "
                                           f"modules {[m for m, _ in defs[node.name]]}; rename the other one")
        module, reference = defs[node.name][0]
        assert ast.dump(node) == ast.dump(reference), (
            f"{nb_path.name}: {node.name} differs from utils/{module}; copy the notebook's version into utils "
            "(or the other way round) so both stay identical")
