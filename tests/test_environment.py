"""The two dependency files agree, and the README's two commands are the ones CI runs."""

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def pyproject_deps(dev: bool = True) -> dict[str, str]:
    """The pinned runtime dependencies, with the dev extra (tests, lint) unless ``dev=False``."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + (project["optional-dependencies"]["dev"] if dev else [])
    return dict(d.split("==") for d in deps)


def environment_deps() -> dict[str, str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:")
    deps = {}
    for line in lines[start + 1 :]:
        m = re.fullmatch(r"\s+- ([A-Za-z0-9_.\-]+)==(\S+)", line)
        if not m:
            break
        deps[m.group(1)] = m.group(2)
    return deps


def test_every_dependency_is_pinned_exactly():
    deps = (ROOT / "pyproject.toml").read_text()
    project = tomllib.loads(deps)["project"]
    listed = project["dependencies"] + project["optional-dependencies"]["dev"]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[\w.]+", d) for d in listed), listed


def test_environment_yml_matches_pyproject():
    assert environment_deps() == pyproject_deps()


def test_torch_pins():
    deps = pyproject_deps()
    assert deps["torch"] == "2.14.1" and deps["torchvision"] == "0.29.1"


def test_course_dependencies_listed():
    needed = {
        "torch",
        "torchvision",
        "jupyterlab",
        "ipywidgets",
        "matplotlib",
        "numpy",
        "nbval",
        "scikit-image",
        "scikit-learn",
        "tqdm",
    }
    assert needed <= set(pyproject_deps())
    assert not {"pytest", "nbval", "playwright", "ruff"} & set(pyproject_deps(dev=False)), "test tools belong in dev"


def test_readme_gives_the_two_commands_and_ci_runs_one():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith("set ") and not line.startswith("cd ")
    ]
    # the last command is the README's test command; before it, only the browser tests' Chromium install,
    # word for word as the README tells a user to run it
    assert ci[-1] == "make test", ci
    for line in ci[:-1]:
        command = line.split("  #")[0].strip()
        assert command.startswith("command -v chromium"), line
        assert command in readme, f".ci/run runs {command!r}, which the README does not tell a user"
