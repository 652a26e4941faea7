"""Pytest runs the course in quick mode with progress bars off, whether started by `make test` or plain `pytest`.

The notebook kernels that nbval starts inherit these variables.
"""
import os

os.environ.setdefault("COURSE_QUICK", "1")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("COURSE_THREADS", "2")
os.environ.setdefault("MPLBACKEND", "Agg")


_notebook_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report):
    """Add up the time nbval spends in each notebook (setup starts its kernel, then one item per cell)."""
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] = _notebook_seconds.get(path, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    """Print the wall time of every executed notebook (the issue's 'time each notebook took')."""
    if _notebook_seconds:
        terminalreporter.section("time per notebook (quick mode)")
        for path, seconds in sorted(_notebook_seconds.items()):
            terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
