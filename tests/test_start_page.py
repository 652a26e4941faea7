"""The start page (notebooks/00_start_here.ipynb) and the environment check behind it (utils/course/environment.py)."""

import importlib.metadata
import json
import re
import shutil
import socket
import urllib.request
from pathlib import Path

from utils.course import checkpoints, environment
from utils.course.environment import Check

ROOT = Path(__file__).resolve().parents[1]
START = ROOT / "notebooks" / "00_start_here.ipynb"


def _missing(name: str) -> str:
    raise importlib.metadata.PackageNotFoundError(name)


# --------------------------------------------------------------------------- packages
def test_a_missing_required_package_fails_with_the_fix():
    check = environment.check_package("torch", "2.14.1", version=_missing)
    assert not check.ok and check.required and check.status == "FAIL"
    assert "not installed" in check.detail and '%pip install "torch==2.14.1"' in check.fix
    text = environment.report([check])
    assert "FAIL" in text and "fix: " in text and "NOT ready" in text


def test_a_really_absent_distribution_is_reported_as_missing():
    check = environment.check_package("cgm-course-no-such-package", "1.0", required=True)
    assert not check.ok and check.required and "not installed" in check.detail


def test_another_version_is_a_warning_not_a_failure():
    check = environment.check_package("numpy", "2.4.6", version=lambda name: "1.26.4")
    assert not check.ok and not check.required and check.status == "warn"
    assert "1.26.4" in check.detail and "2.4.6" in check.detail and '"numpy==2.4.6"' in check.fix
    assert environment.failures([check]) == []


def test_every_pin_of_pyproject_is_checked():
    names = [c.name for c in environment.check_packages()]
    assert set(environment.pinned_versions()) <= set(names)
    assert names[:2] == ["torch", "torchvision"]


# --------------------------------------------------------------------------- checkpoints
def _copy_checkpoints(folder: Path, names: list[str]) -> None:
    sums = dict(
        reversed(line.split())
        for line in (checkpoints.CHECKPOINTS / "SHA256SUMS").read_text().splitlines()
        if line.strip()
    )
    folder.mkdir()
    for name in names:
        shutil.copy(checkpoints.CHECKPOINTS / name, folder / name)
    (folder / "SHA256SUMS").write_text("".join(f"{sums[n]}  {n}\n" for n in names))


def test_the_shipped_checkpoints_verify():
    check = environment.check_checkpoints()
    assert check.ok, check.detail


def test_a_corrupted_checkpoint_copy_is_reported(tmp_path):
    folder = tmp_path / "checkpoints"
    _copy_checkpoints(folder, ["digits_handwritten_classifier.pt", "digits_typeset_classifier.pt"])
    assert environment.check_checkpoints(folder).ok
    data = bytearray((folder / "digits_typeset_classifier.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "digits_typeset_classifier.pt").write_bytes(bytes(data))
    check = environment.check_checkpoints(folder)
    assert not check.ok and check.required
    assert "1 of 2" in check.detail and "digits_typeset_classifier.pt (notebook 07)" in check.detail
    assert "altered" in check.detail and "git checkout" in check.fix
    assert "digits_handwritten_classifier.pt" not in check.detail


def test_a_missing_checkpoint_and_a_missing_sums_file_are_reported(tmp_path):
    folder = tmp_path / "checkpoints"
    _copy_checkpoints(folder, ["segmenter.pt"])
    (folder / "segmenter.pt").unlink()
    check = environment.check_checkpoints(folder)
    assert not check.ok and "segmenter.pt (notebook 05)" in check.detail and "missing" in check.detail
    assert not environment.check_checkpoints(tmp_path).ok  # no SHA256SUMS at all


# --------------------------------------------------------------------------- hardware
def test_a_gpu_is_named_and_no_gpu_is_only_a_warning(monkeypatch):
    import torch

    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    none = environment.check_cuda()
    assert not none.ok and not none.required and "utils.device() -> cpu" in none.detail
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Example GPU 80GB")
    gpu = environment.check_cuda()
    assert gpu.ok and "Example GPU 80GB" in gpu.detail and "utils.device() -> cuda" in gpu.detail


def test_the_cpu_line_gives_the_threads(monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", "1")
    check = environment.check_cpu()
    assert check.ok and "CPU cores" in check.detail and "sets 1 (COURSE_THREADS=1)" in check.detail
    monkeypatch.setenv("COURSE_THREADS", "two")
    assert not environment.check_cpu().ok


# --------------------------------------------------------------------------- Jupyter
def test_the_widgets_frontend_is_found_only_with_its_labextension(tmp_path):
    ext = tmp_path / "labextensions" / "@jupyter-widgets" / "jupyterlab-manager"
    ext.mkdir(parents=True)
    assert not environment.check_widgets_frontend([tmp_path / "labextensions"]).ok
    (ext / "package.json").write_text(json.dumps({"name": "@jupyter-widgets/jupyterlab-manager", "version": "5.0.1"}))
    found = environment.check_widgets_frontend([tmp_path / "labextensions"])
    assert found.ok and "5.0.1" in found.detail
    absent = environment.check_widgets_frontend([tmp_path / "labextensions"], version=_missing)
    assert not absent.ok and not absent.required and "ipywidgets" in absent.fix


# --------------------------------------------------------------------------- downloads and weights
def test_cached_downloads_are_found_on_disk(tmp_path):
    from utils.data import download

    for member in download.REGISTRY["facades"].members:
        (tmp_path / member).mkdir(parents=True)
    (tmp_path / download.REGISTRY["mnist"].filename).write_bytes(b"cached")
    checks = {c.name: c for c in environment.check_downloads(tmp_path)}
    assert checks["download: facades"].ok and checks["download: mnist"].ok
    missing = checks["download: horse2zebra"]
    assert not missing.ok and not missing.required
    assert "utils.data.download.fetch('horse2zebra')" in missing.fix and "typeset_digits" in missing.detail


def test_no_network_is_used(monkeypatch, tmp_path):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "data"))  # an empty cache...
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # ...and no VGG weights
    checks = environment.check_environment()
    text = environment.report(checks)
    assert attempts == []
    assert not (tmp_path / "data").exists() and not (tmp_path / "torch").exists(), "nothing may be downloaded"
    by_name = {c.name: c for c in checks}
    assert not by_name["VGG weights (vgg16)"].ok and "random-weights" in by_name["VGG weights (vgg16)"].detail
    assert not by_name["download: facades"].ok
    assert environment.failures(checks) == [], text  # offline is not a failure
    assert re.search(r"\d+ ok, \d+ warnings, 0 failures: ready", text)


def test_report_lists_every_check_with_its_status():
    checks = [Check("alpha", True, "fine"), Check("beta", False, "absent", "install beta", required=False)]
    text = environment.report(checks)
    lines = text.splitlines()
    assert lines[0].startswith("ok") and "alpha" in lines[0] and "fine" in lines[0]
    assert lines[1].startswith("warn") and "beta" in lines[1] and "fix: install beta" in lines[2]
    assert text.rstrip().endswith("(the warnings only mean offline defaults or a CPU)")


# --------------------------------------------------------------------------- the notebook, README and Makefile
def _start_page_text() -> str:
    return "\n".join("".join(c["source"]) for c in json.loads(START.read_text())["cells"])


def test_the_start_page_links_every_notebook_and_exercise():
    text = _start_page_text()
    links = re.findall(r"\]\(([^)\s]+\.ipynb)\)", text)
    for link in links:
        assert (START.parent / link).resolve().is_file(), f"broken link {link}"
    linked = {(START.parent / link).resolve() for link in links}
    expected = {p.resolve() for p in (ROOT / "notebooks").glob("*.ipynb") if p != START}
    expected |= {p.resolve() for p in (ROOT / "lessons").glob("*.ipynb")}
    assert not expected - linked, f"the start page does not link {sorted(p.name for p in expected - linked)}"


def test_the_start_page_checks_the_environment_and_asserts_the_essentials():
    code = [("".join(c["source"])) for c in json.loads(START.read_text())["cells"] if c["cell_type"] == "code"]
    assert any("environment.check_environment()" in c and "assert not problems" in c for c in code)


def test_make_lab_opens_the_start_page_and_the_readme_says_so():
    assert "default_url=/lab/tree/notebooks/00_start_here.ipynb" in (ROOT / "Makefile").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "| 00 | `00_start_here`" in readme and "`make lab` opens the start page" in readme
