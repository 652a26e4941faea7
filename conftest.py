"""Pytest runs the course in quick mode with progress bars off, whether started by `make test` or plain `pytest`.

The notebook kernels that nbval starts inherit these variables.
"""

import os

import pytest

os.environ.setdefault("COURSE_QUICK", "1")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
_THREADS_GIVEN = "COURSE_THREADS" in os.environ


def pytest_configure(config):
    """Give each pytest-xdist worker (`make test` starts one per core), and every kernel it starts, its share of the
    cores (at most 2 threads): two workers on two cores must not fight over four threads, which slows the small
    CPU models of the course down many times over. The workers inherit the variables set here."""
    if _THREADS_GIVEN:  # set by the user, or by the pytest-xdist controller that started this worker
        return
    workers = getattr(config.option, "numprocesses", None) or 1  # -n, with "auto" already resolved to a number
    threads = str(max(1, min(2, (os.cpu_count() or 1) // workers)))
    os.environ["COURSE_THREADS"] = threads
    os.environ.setdefault("OMP_NUM_THREADS", threads)


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


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist: each notebook (one kernel, its cells in order) and the browser tests (one JupyterLab) go to
    one worker whole; every other test is scheduled on its own, so the slow ones spread over the workers."""
    from xdist.scheduler import LoadScopeScheduling

    class WholeNotebooks(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::")[0]
            return path if path.endswith(".ipynb") or path.startswith("tests/browser/") else nodeid

    return WholeNotebooks(config, log)
