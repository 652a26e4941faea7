"""lessons/ is generated from solutions/ (one source), and a lesson fails only at its blanks.

* drift: regenerating every lesson from its solution must reproduce the committed lesson byte for byte;
* shape: every exercise is followed by a check cell that calls ``utils.course.checks``;
* behaviour: a lesson executes cleanly up to its first exercise, and every error it raises is the blanks'
  ``NotImplementedError`` (nbval's NBVAL_RAISES_EXCEPTION cannot show this: it passes when nothing is raised).
  Solutions are executed by nbval in the same test run.
"""

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))

spec = importlib.util.spec_from_file_location("make_lessons", ROOT / "scripts" / "make_lessons.py")
make_lessons = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_lessons)


def exercise_cells(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "# BEGIN SOLUTION" in c.source]


def test_lessons_and_solutions_are_paired():
    lessons = {p.name for p in (ROOT / "lessons").glob("*.ipynb")}
    assert lessons == {p.name for p in SOLUTIONS} and len(lessons) >= 2


@pytest.mark.parametrize("sol", SOLUTIONS, ids=lambda p: p.name)
def test_lesson_is_generated_from_its_solution(sol):
    committed = (ROOT / "lessons" / sol.name).read_text()
    assert committed == make_lessons.lesson_text(sol), (
        f"lessons/{sol.name} has drifted from solutions/{sol.name}: edit the solution, then run "
        "`python scripts/make_lessons.py` (make lessons)"
    )


def test_blank_out_replaces_only_solution_blocks():
    src = "def f(x):\n    y = 1\n    # BEGIN SOLUTION\n    return x + y\n    # END SOLUTION\nprint(f)"
    out = make_lessons.blank_out(src)
    assert "return x + y" not in out and "y = 1" in out and "print(f)" in out
    assert "    raise NotImplementedError" in out
    with pytest.raises(ValueError):
        make_lessons.blank_out("# BEGIN SOLUTION\nx = 1")


@pytest.mark.parametrize("sol", SOLUTIONS, ids=lambda p: p.name)
def test_every_exercise_is_followed_by_a_check(sol):
    nb = nbformat.read(sol, as_version=4)
    exercises = exercise_cells(nb)
    assert exercises, "an exercise notebook needs at least one exercise"
    for i in exercises:
        nxt = nb.cells[i + 1]
        assert nxt.cell_type == "code" and "checks.check_" in nxt.source, f"cell {i} has no check cell after it"


@pytest.mark.parametrize("sol", SOLUTIONS, ids=lambda p: p.name)
def test_lesson_runs_to_its_first_exercise_and_fails_only_at_the_blanks(sol, monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    lesson = nbformat.read(ROOT / "lessons" / sol.name, as_version=4)
    NotebookClient(
        lesson,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(ROOT / "lessons")}},
    ).execute()
    exercises = exercise_cells(nbformat.read(sol, as_version=4))
    errors = {
        i: o for i, c in enumerate(lesson.cells) if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    }
    assert errors, "the lesson raised nothing: its blanks are not wired to its checks"
    assert min(errors) > exercises[0], (
        f"cell {min(errors)} fails before the first exercise: {errors[min(errors)].evalue}"
    )
    for i, err in errors.items():
        assert err.ename == "NotImplementedError", f"cell {i} raised {err.ename}: {err.evalue}"
    for i in exercises:
        assert i not in errors, f"the exercise cell {i} itself should only define the function"
        assert i + 1 in errors, f"the check after exercise cell {i} did not hit the blank"
