"""End-to-end browser tests: a real JupyterLab driven by Debian's Chromium through Playwright.

Fixtures:

* ``lab`` (session): JupyterLab on 127.0.0.1, a free port, a random token, the course in quick mode
  (``COURSE_QUICK=1``, ``TQDM_DISABLE=1`` for the server and so for its kernels), with its settings, workspaces and
  runtime files in a temporary folder (the user's JupyterLab setup is untouched), autosave off (the notebooks in
  git stay as they are), and no news or update checks. Stopped by its PID at the end: terminate, wait, kill.
* ``browser`` (session): headless Chromium from ``/usr/bin/chromium`` (or ``$COURSE_CHROMIUM``). Playwright never
  downloads a browser here. Without Chromium or without Playwright the tests are skipped, saying how to get them.
* ``page``: a fresh browser page per test; on failure it saves a screenshot of the whole page in ``OUTPUT``.

Screenshots go to ``tests/browser/output/`` (git-ignored).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(__file__).resolve().parent / "output"
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
GET_CHROMIUM = (
    "install Debian's Chromium as root: `apt-get update && apt-get install -y chromium` "
    "(or point COURSE_CHROMIUM at a Chromium executable)"
)
SERVER_START_TIMEOUT = 90  # seconds for JupyterLab to answer /api/status

# User settings written into the temporary settings folder: no autosave (the notebooks in git must not change),
# no news or update pop-ups, and every cell attached to the page (no windowing), so that outputs can be located.
USER_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    # no notification settings here: the course's own (scripts/jupyterlab-overrides.json, installed by make setup)
    # must keep JupyterLab from asking the web for news, as it does for a learner
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab: its base URL, token and process."""

    url: str
    token: str
    process: subprocess.Popen
    log: Path

    def api(self, path: str, method: str = "GET"):
        """Call the server's REST API; returns the decoded JSON (None for an empty answer)."""
        req = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def page_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}"

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:]) if self.log.exists() else ""


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session")
def playwright_api():
    """Playwright's sync API, or a skip saying how to install it."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "Playwright for Python is missing: `make setup` (or `.venv/bin/pip install -e .`) installs it; "
            "it drives Debian's Chromium, no browser download is needed"
        )
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"Chromium not found at {CHROMIUM}: {GET_CHROMIUM}")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_api):
    """Headless Chromium from Debian (no download); ``--no-sandbox`` when running as root (containers, CI)."""
    args = ["--disable-dev-shm-usage", "--disable-gpu"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    b = playwright_api.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
    yield b
    b.close()


@pytest.fixture(scope="session")
def lab(playwright_api, output_dir):
    """JupyterLab serving the repository, in quick mode, isolated from the user's JupyterLab files."""
    tmp = Path(tempfile.mkdtemp(prefix="cgm-browser-"))
    settings = tmp / "user-settings"
    for name, values in USER_SETTINGS.items():
        path = settings / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(
        os.environ,
        COURSE_QUICK="1",
        TQDM_DISABLE="1",
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        IPYTHONDIR=str(tmp / "ipython"),
    )
    env.pop("MPLBACKEND", None)  # the kernels draw inline, as in a learner's JupyterLab
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",
        "--ServerApp.terminals_enabled=False",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = output_dir / "jupyterlab.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    server = Lab(url=f"http://127.0.0.1:{port}", token=token, process=process, log=log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {process.returncode}:\n{server.log_tail()}")
            try:
                server.api("/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within {SERVER_START_TIMEOUT} s:\n{server.log_tail()}")
                time.sleep(0.25)  # polling the server's readiness, not waiting for a fixed time
        yield server
    finally:
        try:  # shut the kernels down through the API first, so that none outlives the server
            for kernel in server.api("/api/kernels") or []:
                server.api(f"/api/kernels/{kernel['id']}", method="DELETE")
        except Exception:
            pass
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so that the ``page`` fixture knows whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(browser, request, output_dir):
    """A fresh page (its own cookies) 1400x1000; a full-page screenshot is saved when the test fails."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    pg = context.new_page()
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        try:
            pg.screenshot(path=str(output_dir / f"{request.node.name}_failure.png"), full_page=True)
        except Exception:
            pass
    context.close()
