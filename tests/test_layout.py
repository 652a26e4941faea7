"""The layout of ``utils/``: lessons at the top and in ``data/``, the course machinery in ``course/``, the GPU work in
``scale/``, and which may import which.

* No lesson module (``utils/*.py``, ``utils/data/**``) imports ``utils.scale`` in any form: the lessons run on a CPU
  and ``scale`` builds on them, never the other way round.
* Of ``utils.course``, lesson modules may import ``utils.course.checkpoints`` only (the exercise checks and the
  widgets build on the lessons; a lesson importing them would make a cycle). Today no lesson module imports
  ``utils.course`` at all.
* No ``.py`` file under ``utils/`` is over :data:`MAX_LINES` lines.
* Every module under ``utils/`` imports.

Imports are read with ``ast`` (every ``import``/``from ... import`` anywhere in a file, relative ones resolved, and
``importlib.import_module``/``__import__`` of a literal name), so a check does not depend on how an import is spelled.
The last tests plant each kind of breakage in a throwaway package under ``tmp_path`` and check that it is caught.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UTILS = ROOT / "utils"
MAX_LINES = 600
#: The only part of utils.course that a lesson module may import.
COURSE_ALLOWED = ("utils.course.checkpoints",)


# --------------------------------------------------------------------------- reading a tree
def module_name(path: Path, root: Path, package: str) -> str:
    """The dotted name of the module in ``path`` (a file under the package directory ``root`` named ``package``)."""
    parts = [package, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def lesson_files(root: Path) -> list[Path]:
    """The lesson modules of the package in ``root``: its top-level ``*.py`` and everything under ``data/``."""
    return sorted([*root.glob("*.py"), *(root / "data").rglob("*.py")])


def _resolve(name: str, level: int, path: Path, root: Path, package: str) -> str:
    """The absolute name of ``name`` imported with ``level`` leading dots from the module in ``path``."""
    if level == 0:
        return name
    here = module_name(path, root, package)
    base = here.split(".") if path.name == "__init__.py" else here.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def imports(path: Path, root: Path, package: str) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of everything the file imports: ``import a.b`` gives a.b, ``from a import b``
    gives a.b (b may be a module or a name in a: both start with a), ``from a import *`` gives a, and
    ``importlib.import_module("a.b")`` / ``__import__("a.b")`` with a literal name give a.b."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(node.module or "", node.level, path, root, package)
            found += [(node.lineno, module if a.name == "*" else f"{module}.{a.name}".lstrip(".")) for a in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            target = node.args[0].value
            if called in ("import_module", "__import__") and isinstance(target, str):
                dots = len(target) - len(target.lstrip("."))
                found.append((node.lineno, _resolve(target[dots:], dots, path, root, package)))
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def scale_imports(root: Path, package: str) -> list[str]:
    """'file:line name' for every import of ``<package>.scale`` by a lesson module."""
    return [
        f"{path.relative_to(root.parent)}:{line} imports {name}"
        for path in lesson_files(root)
        for line, name in imports(path, root, package)
        if _under(name, f"{package}.scale")
    ]


def course_imports(root: Path, package: str) -> list[str]:
    """'file:line name' for every import of ``<package>.course`` by a lesson module, other than the allowed parts."""
    allowed = [name.replace("utils", package, 1) for name in COURSE_ALLOWED]
    return [
        f"{path.relative_to(root.parent)}:{line} imports {name}"
        for path in lesson_files(root)
        for line, name in imports(path, root, package)
        if _under(name, f"{package}.course") and not any(_under(name, ok) for ok in allowed)
    ]


def long_files(root: Path, limit: int = MAX_LINES) -> list[str]:
    """'file: N lines' for every ``.py`` file under ``root`` over ``limit`` lines."""
    counts = ((path, len(path.read_text(encoding="utf-8").splitlines())) for path in sorted(root.rglob("*.py")))
    return [f"{path.relative_to(root.parent)}: {n} lines" for path, n in counts if n > limit]


def import_failures(root: Path, package: str) -> list[str]:
    """Every module of the package in ``root`` that does not import (with the last line of its error), and every
    ``.py`` file that pkgutil's walk does not reach (a module it cannot see is a module nobody tested)."""
    failures: list[str] = []

    def failed(name: str) -> None:
        failures.append(f"{name}: {traceback.format_exc().strip().splitlines()[-1]}")

    def walk_error(name: str) -> None:  # a package that fails while pkgutil imports it to look inside
        failed(name)

    names = [package]
    pkg = importlib.import_module(package)
    names += [info.name for info in pkgutil.walk_packages(pkg.__path__, f"{package}.", onerror=walk_error)]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # every failure is reported, with its message
            failed(name)
    walked = set(names)
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" not in path.parts and module_name(path, root, package) not in walked:
            failures.append(f"{path.relative_to(root.parent)}: not reached by pkgutil.walk_packages")
    return sorted(set(failures))


# --------------------------------------------------------------------------- the real tree
def test_the_tree_has_lesson_modules():
    names = {path.relative_to(UTILS).as_posix() for path in lesson_files(UTILS)}
    assert {"pix2pix.py", "cyclegan.py", "perceptual.py", "data/__init__.py"} <= names
    assert not any(name.startswith(("scale/", "course/")) for name in names)


def test_no_lesson_module_imports_scale():
    assert scale_imports(UTILS, "utils") == []


def test_lesson_modules_import_only_checkpoints_from_course():
    assert course_imports(UTILS, "utils") == []


def test_no_module_is_over_the_line_limit():
    assert long_files(UTILS) == []


def test_every_module_imports():
    assert import_failures(UTILS, "utils") == []


# --------------------------------------------------------------------------- each check can fail
FAKE = "layout_fake_pkg"


@pytest.fixture
def fake_tree(tmp_path, monkeypatch):
    """A throwaway package laid out like utils/ (lessons, data/, course/, scale/) with nothing wrong in it."""
    root = tmp_path / FAKE
    for sub in ("data", "course", "course/checks", "scale"):
        (root / sub).mkdir(parents=True)
    files = {
        "__init__.py": "from . import data, lesson\n",
        "lesson.py": "import math\nfrom . import data\nfrom .course import checkpoints\n",
        "data/__init__.py": "from .. import lesson\n",
        "data/sets.py": "from ..course.checkpoints import save\n",
        "course/__init__.py": "",
        "course/checkpoints.py": "def save():\n    pass\n",
        "course/checks/__init__.py": "from ... import lesson\n",
        "scale/__init__.py": "",
        "scale/fast.py": "from .. import lesson\n",
    }
    for name, text in files.items():
        (root / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    for name in [m for m in sys.modules if _under(m, FAKE)]:
        del sys.modules[name]


def test_the_clean_fake_tree_passes(fake_tree):
    assert scale_imports(fake_tree, FAKE) == []
    assert course_imports(fake_tree, FAKE) == []
    assert long_files(fake_tree) == []
    assert import_failures(fake_tree, FAKE) == []


@pytest.mark.parametrize(
    "file, line",
    [
        ("lesson.py", "from .scale import fast"),
        ("lesson.py", "from . import scale"),
        ("lesson.py", f"from {FAKE} import scale"),
        ("lesson.py", f"import {FAKE}.scale.fast"),
        ("lesson.py", "def f():\n    from .scale.fast import speed"),
        ("lesson.py", f"import importlib\nimportlib.import_module('{FAKE}.scale')"),
        ("data/sets.py", "from ..scale import fast"),
        ("data/sets.py", "from .. import scale"),
    ],
)
def test_a_planted_scale_import_is_caught(fake_tree, file, line):
    with open(fake_tree / file, "a") as f:
        f.write(line + "\n")
    found = scale_imports(fake_tree, FAKE)
    assert len(found) == 1 and f"{FAKE}.scale" in found[0] and found[0].startswith(f"{FAKE}/{file}:"), found


@pytest.mark.parametrize(
    "file, line",
    [
        ("lesson.py", "from .course import checks"),
        ("lesson.py", "from .course.checks import something"),
        ("lesson.py", "from . import course"),
        ("lesson.py", f"import {FAKE}.course.widgets"),
        ("data/sets.py", "from ..course import checks, checkpoints"),
    ],
)
def test_a_planted_course_import_is_caught(fake_tree, file, line):
    with open(fake_tree / file, "a") as f:
        f.write(line + "\n")
    found = course_imports(fake_tree, FAKE)
    assert len(found) == 1 and found[0].startswith(f"{FAKE}/{file}:"), found


def test_machinery_may_import_scale_and_course(fake_tree):
    """Only lesson modules are held to the rules: course/ and scale/ import whatever they need."""
    (fake_tree / "course/checks/__init__.py").write_text("from ...scale import fast\nfrom .. import checkpoints\n")
    assert scale_imports(fake_tree, FAKE) == [] and course_imports(fake_tree, FAKE) == []


def test_a_long_file_is_caught(fake_tree):
    (fake_tree / "course/checks/__init__.py").write_text("x = 1\n" * (MAX_LINES + 1))
    assert long_files(fake_tree) == [f"{FAKE}/course/checks/__init__.py: {MAX_LINES + 1} lines"]
    (fake_tree / "course/checks/__init__.py").write_text("x = 1\n" * MAX_LINES)
    assert long_files(fake_tree) == []


@pytest.mark.parametrize(
    "file, text, broken",
    [
        ("scale/fast.py", "from .. import no_such_module\n", f"{FAKE}.scale.fast"),
        ("course/checks/__init__.py", "raise RuntimeError('broken package')\n", f"{FAKE}.course.checks"),
        ("data/sets.py", "def broken(:\n", f"{FAKE}.data.sets"),
    ],
)
def test_a_module_that_does_not_import_is_caught(fake_tree, file, text, broken):
    (fake_tree / file).write_text(text)
    failures = import_failures(fake_tree, FAKE)
    assert any(f.startswith(f"{broken}: ") for f in failures), failures


MATH_FIRST = [
    ("utils/perceptual.py", "gram_matrix"),
    ("utils/perceptual.py", "style_loss"),
    ("utils/cyclegan.py", "cycle_loss"),
    ("utils/pix2pix.py", "pix2pix_generator_loss"),
]


@pytest.mark.parametrize(("module", "name"), MATH_FIRST, ids=[name for _, name in MATH_FIRST])
def test_a_loss_reads_as_its_math(module, name):
    """Argument checks live in utils.validate, so each of these reads in at most 12 lines after its docstring."""
    node = next(n for n in ast.parse((ROOT / module).read_text()).body if getattr(n, "name", None) == name)
    body = node.body[1:] if isinstance(node.body[0], ast.Expr) else node.body
    assert body[-1].end_lineno - body[0].lineno + 1 <= 12, f"{name} has grown: move its argument checks to validate"
    assert "$" in ast.get_docstring(node), f"{name}: give its formula in LaTeX in the docstring"
