"""House rules for the course notebooks: small in git, the course kernel, the textbook shape, no path hacks."""

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALL = sorted(p for d in ("notebooks", "lessons", "solutions") for p in (ROOT / d).glob("*.ipynb"))
COURSE = sorted((ROOT / "notebooks").glob("*.ipynb"))
MARK = "# NBVAL_CHECK_OUTPUT"


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def test_the_first_two_lessons_exist():
    names = [p.name for p in COURSE]
    assert "01_conditional_generative_models.ipynb" in names and "02_gan_from_scratch.ipynb" in names


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_hygiene(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "cgm-course"
    assert path.stat().st_size < 300_000, "keep notebooks small in git: clear large outputs"
    for i, cell in enumerate(nb["cells"]):
        src = source(cell)
        assert "sys.path" not in src, f"cell {i}: no sys.path hacks; utils is installed into the environment"
        assert not re.search(r"/(work|root|home|tmp)/[A-Za-z]", src), f"cell {i}: an absolute machine path"
        if cell["cell_type"] != "code":
            continue
        checked = src.lstrip().startswith(MARK)
        if checked:
            assert cell["outputs"], (
                f"cell {i} is compared by nbval but has no stored output (scripts/store_checked_outputs.py)"
            )
        else:
            assert not cell["outputs"], f"cell {i}: only {MARK} cells keep outputs in git"
        assert all(o.get("output_type") != "error" for o in cell["outputs"]), f"cell {i}: a stored traceback"


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_course_notebook_shape(path):
    cs = cells(path)
    assert cs[0]["cell_type"] == "markdown" and source(cs[0]).startswith("# "), "open with a title"
    assert "What you will build" in source(cs[0])
    closing = "".join(source(c) for c in cs[-3:] if c["cell_type"] == "markdown")
    assert "## Try this" in closing, "close with 'Try this' (then the study-group questions)"
    assert any("$" in source(c) for c in cs if c["cell_type"] == "markdown"), "the math, in LaTeX"
    assert any("assert " in source(c) for c in cs if c["cell_type"] == "code"), "at least one check"


WIDGETS = {
    "03_mode_collapse.ipynb": "ModeCollapseExplorer(",
    "07_cyclegan.ipynb": "CycleExplorer(",
    "08_perceptual_loss_and_style_transfer.ipynb": "GramExplorer(",
}


@pytest.mark.parametrize("name", WIDGETS)
def test_widgets_have_a_static_picture_for_plain_viewers(name):
    cs = cells(ROOT / "notebooks" / name)
    at = next(i for i, c in enumerate(cs) if c["cell_type"] == "code" and WIDGETS[name] in source(c))
    pictures = [
        m
        for c in cs[at - 2 : at + 4]
        if c["cell_type"] == "markdown"
        for m in re.findall(r"!\[[^\]]+\]\((figures/[^)]+\.png)\)", source(c))
    ]
    assert pictures, f"{name}: put a static picture of the widget (scripts/make_widget_previews.py) next to it"
    for pic in pictures:
        path = ROOT / "notebooks" / pic
        assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{pic} is missing or not a PNG"
        assert path.stat().st_size < 300_000, f"{pic}: keep the picture small in git"


def _code_trees(path: Path):
    """(cell index, parsed source) of every code cell that parses as Python."""
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] == "code":
            try:
                yield i, ast.parse(source(cell))
            except SyntaxError:  # IPython magics; nbval runs those cells anyway
                continue


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*.ipynb")), ids=lambda p: p.name)
def test_exercise_asserts_say_what_went_wrong(path):
    """A learner's own code reaches these asserts: a bare AssertionError tells them nothing."""
    for i, tree in _code_trees(path):
        bare = [ast.unparse(n)[:80] for n in ast.walk(tree) if isinstance(n, ast.Assert) and n.msg is None]
        assert not bare, f"cell {i}: give these asserts a message saying what is off and what to do: {bare}"


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_cell_spills_the_seed_generator(path):
    """``utils.seed_everything`` returns a torch.Generator: as a cell's last line it prints <torch._C.Generator ...>."""
    for i, tree in _code_trees(path):
        last = tree.body[-1] if tree.body else None
        if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
            assert "seed_everything" not in ast.unparse(last.value.func), (
                f"cell {i} ends with seed_everything(...): its Generator is printed; assign it or add a line after it"
            )


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_markdown_has_no_control_characters(path):
    """A LaTeX command written through a Python string loses its backslash: "\\times" becomes a tab + "imes"."""
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] == "markdown":
            bad = re.search(r"[\t\x07\x08\x0b\x0c\r]", source(cell))
            assert not bad, (
                f"cell {i}: control character {bad.group()!r} near {source(cell)[bad.start() - 20 : bad.end() + 10]!r}"
            )
