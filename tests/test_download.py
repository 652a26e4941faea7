"""utils.data.download (pooch underneath) without the network: fixture archives served by file:// and loopback HTTP."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import shutil
import socket
import tarfile
import threading
import zipfile
from functools import partial
from pathlib import Path

import pytest

from utils.data import download
from utils.data.download import Dataset, DatasetUnavailableError, fetch

MEMBERS = ("toy/train/", "toy/val/")
OFFLINE = "the toy offline default of this test"


# --------------------------------------------------------------------------- fixture archives and servers
def make_tar(path: Path, files: dict[str, bytes]) -> Path:
    """Write a .tar.gz holding ``files`` (name -> bytes), names stored exactly as given (even unsafe ones)."""
    with tarfile.open(path, "w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def make_zip(path: Path, files: dict[str, bytes]) -> Path:
    """Write a .zip holding ``files`` (name -> bytes)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


TOY_FILES = {"toy/train/a.txt": b"train image", "toy/val/b.txt": b"val image", "toy/README": b"hi"}


def toy_dataset(filename: str = "toy.tar.gz", **changes) -> Dataset:
    """A registered toy dataset (the registry is restored after each test); ``changes`` override fields."""
    fields = dict(
        name="toy",
        url="http://127.0.0.1:9/never-used",
        filename=filename,
        sha256=None,
        size=None,
        members=MEMBERS,
        offline_default=OFFLINE,
    )
    ds = Dataset(**{**fields, **changes})
    download.register(ds)
    return ds


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def closed_port() -> int:
    """A loopback port that nothing listens on (bound, read, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def leftovers(root: Path) -> list[str]:
    """Everything in the cache folder, relative names, sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Work on a copy of REGISTRY and point the default cache into tmp_path: nothing touches the real home."""
    monkeypatch.setattr(download, "REGISTRY", dict(download.REGISTRY))
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "default-cache"))


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def served(tmp_path):
    """A folder served on http://127.0.0.1:PORT/ by a background ThreadingHTTPServer; yields (folder, base_url)."""
    folder = tmp_path / "served"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def truncating_server():
    """A server that announces 10,000 bytes, sends 100, then closes the connection; yields its URL."""

    class Truncating(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "10000")
            self.end_headers()
            self.wfile.write(b"x" * 100)
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Truncating)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/file.gz"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


# --------------------------------------------------------------------------- the happy paths
@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_file_url_extracts_once_then_uses_the_cache(tmp_path, root, kind, capsys):
    source = tmp_path / f"toy.{kind}"
    (make_tar if kind == "tar.gz" else make_zip)(source, TOY_FILES)
    toy_dataset(filename=source.name, sha256=sha(source))

    folder = fetch("toy", root=root, url=source.as_uri(), progress=False)
    assert folder == root / "toy"
    assert (folder / "train" / "a.txt").read_bytes() == b"train image"
    assert (folder / "val" / "b.txt").read_bytes() == b"val image"
    assert not (root / f"{source.name}.sha256").exists()  # a published checksum is never pinned
    assert not [p for p in leftovers(root) if p.startswith(".") or p.endswith(".part")]

    # the second call must not touch the network (an unreachable URL would raise) nor unpack again
    (folder / "mine.txt").write_text("a learner's file")
    again = fetch("toy", root=root, url=(tmp_path / "gone.tar.gz").as_uri(), progress=False)
    assert again == folder and (folder / "mine.txt").exists()
    assert "pinned" not in capsys.readouterr().out


def test_loopback_http_with_progress_bar(served, root):
    folder, base = served
    make_zip(folder / "toy.zip", TOY_FILES)
    toy_dataset(filename="toy.zip")
    out = fetch("toy", root=root, url=f"{base}/toy.zip", progress=True)
    assert (out / "train" / "a.txt").read_bytes() == b"train image"
    assert (root / "toy.zip").read_bytes() == (folder / "toy.zip").read_bytes()


def test_single_file_dataset_is_returned_and_checked_not_extracted(tmp_path, root):
    source = tmp_path / "images.gz"
    source.write_bytes(gzip.compress(b"idx bytes"))
    toy_dataset(filename="images.gz", members=(), extract=False)

    path = fetch("toy", root=root, url=source.as_uri(), progress=False)
    assert path == root / "images.gz" and path.read_bytes() == source.read_bytes()
    assert fetch("toy", root=root, url=(tmp_path / "gone.gz").as_uri(), progress=False) == path  # from cache

    path.write_bytes(b"corrupted in the cache")  # fails the pinned hash: downloaded again
    assert fetch("toy", root=root, url=source.as_uri(), progress=False).read_bytes() == source.read_bytes()


def test_cache_dir_follows_course_data_else_home(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "elsewhere"))
    assert download.cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("COURSE_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert download.cache_dir() == tmp_path / "home" / ".cache" / "cgm-course"


# --------------------------------------------------------------------------- checksums and sizes
def test_wrong_sha256_raises_and_caches_nothing(tmp_path, root):
    source = make_tar(tmp_path / "toy.tar.gz", TOY_FILES)
    toy_dataset(sha256="0" * 64)
    with pytest.raises(DatasetUnavailableError) as err:
        fetch("toy", root=root, url=source.as_uri(), progress=False)
    message = str(err.value)
    assert "0" * 64 in message and sha(source) in message and "removed" in message
    assert leftovers(root) == []  # no archive, no .part, no folder


def test_wrong_size_raises_and_caches_nothing(tmp_path, root):
    source = make_tar(tmp_path / "toy.tar.gz", TOY_FILES)
    toy_dataset(size=source.stat().st_size + 1)
    with pytest.raises(DatasetUnavailableError, match="bytes"):
        fetch("toy", root=root, url=source.as_uri(), progress=False)
    assert leftovers(root) == []


def test_missing_checksum_is_pinned_then_enforced(served, root, capsys):
    folder, base = served
    first = make_tar(folder / "toy.tar.gz", TOY_FILES)
    first_sha = sha(first)
    toy_dataset()

    fetch("toy", root=root, url=f"{base}/toy.tar.gz", progress=False)
    pin = root / "toy.tar.gz.sha256"
    assert pin.read_text().split()[0] == first_sha
    out = capsys.readouterr().out
    assert "no published checksum for toy" in out and first_sha in out

    # the server now serves something else; clear the cache (not the pin) and fetch again
    make_tar(folder / "toy.tar.gz", {**TOY_FILES, "toy/train/extra.txt": b"tampered"})
    (root / "toy.tar.gz").unlink()
    shutil.rmtree(root / "toy")
    with pytest.raises(DatasetUnavailableError) as err:
        fetch("toy", root=root, url=f"{base}/toy.tar.gz", progress=False)
    assert first_sha in str(err.value) and "pinned" in str(err.value)
    assert leftovers(root) == ["toy.tar.gz.sha256"]
    assert pin.read_text().split()[0] == first_sha  # the pin is not overwritten by the bad download


# --------------------------------------------------------------------------- offline and interrupted
def test_unreachable_server_names_the_offline_default(root):
    url = f"http://127.0.0.1:{closed_port()}/toy.tar.gz"
    toy_dataset()
    with pytest.raises(DatasetUnavailableError) as err:
        fetch("toy", root=root, url=url, progress=False)
    message = str(err.value)
    assert OFFLINE in message and "offline" in message and url in message
    assert "not cached" in message and str(root / "toy.tar.gz") in message  # where to put it by hand
    assert leftovers(root) == []


def test_truncated_download_leaves_nothing(truncating_server, root):
    toy_dataset(filename="file.gz", members=(), extract=False)  # no archive check to catch it later
    with pytest.raises(DatasetUnavailableError, match="interrupted after 100 of 10000 bytes"):
        fetch("toy", root=root, url=truncating_server, progress=False)
    assert leftovers(root) == []  # no .part, no final file, no pin


def test_keyboard_interrupt_mid_download_removes_the_part_file(served, root, monkeypatch):
    import requests

    folder, base = served
    make_tar(folder / "toy.tar.gz", {**TOY_FILES, "toy/train/big.bin": bytes(range(256)) * 64})
    toy_dataset()
    real_iter_content = requests.Response.iter_content
    seen_part = []

    def interrupted_iter_content(self, chunk_size=1, decode_unicode=False):
        for chunk in real_iter_content(self, chunk_size=10):
            if seen_part:  # second chunk: the learner presses Ctrl-C
                raise KeyboardInterrupt
            seen_part.append(leftovers(root))  # pooch's temporary file, already open
            yield chunk

    monkeypatch.setattr(requests.Response, "iter_content", interrupted_iter_content)
    with pytest.raises(KeyboardInterrupt):
        fetch("toy", root=root, url=f"{base}/toy.tar.gz", progress=False)
    assert len(seen_part) == 1 and len(seen_part[0]) == 1  # the download really was under way, into one file
    assert leftovers(root) == []


def test_fetch_checked_runs_the_check_before_the_file_is_in_place(tmp_path):
    source = tmp_path / "weights.pth"
    source.write_bytes(b"weights")
    dest = tmp_path / "cache" / "weights.pth"
    dest.parent.mkdir()
    seen = []

    def check(part: Path) -> None:
        seen.append((part.read_bytes(), dest.exists()))

    download.fetch_checked(source.as_uri(), dest, "weights", False, check, RuntimeError)
    assert seen == [(b"weights", False)] and dest.read_bytes() == b"weights"

    def reject(part: Path) -> None:
        raise ValueError("bad hash prefix")

    dest.unlink()
    with pytest.raises(ValueError, match="bad hash prefix"):
        download.fetch_checked(source.as_uri(), dest, "weights", False, reject, RuntimeError)
    assert leftovers(dest.parent) == []
    with pytest.raises(RuntimeError):  # network trouble goes through fail()
        download.fetch_checked((tmp_path / "gone.pth").as_uri(), dest, "weights", False, check, RuntimeError)
    assert leftovers(dest.parent) == []


# --------------------------------------------------------------------------- archive structure and safety
def test_archive_missing_a_member_is_named(tmp_path, root):
    source = make_zip(tmp_path / "toy.zip", {"toy/train/a.txt": b"only train"})
    toy_dataset(filename="toy.zip")
    with pytest.raises(DatasetUnavailableError) as err:
        fetch("toy", root=root, url=source.as_uri(), progress=False)
    assert "toy/val/" in str(err.value) and "expected structure" in str(err.value)
    assert not (root / "toy").exists()
    assert [p for p in leftovers(root) if not p.endswith(".sha256")] == []  # no archive, no temp folder


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
@pytest.mark.parametrize("evil", ["../evil.txt", "../../evil.txt", "toy/../../evil.txt", "ABSOLUTE"])
def test_path_traversal_is_refused(tmp_path, root, kind, evil):
    if evil == "ABSOLUTE":
        evil = str(tmp_path / "evil.txt")
    source = tmp_path / f"toy.{kind}"
    (make_tar if kind == "tar.gz" else make_zip)(source, {**TOY_FILES, evil: b"pwned"})
    toy_dataset(filename=source.name)
    with pytest.raises(DatasetUnavailableError, match="refusing"):
        fetch("toy", root=root, url=source.as_uri(), progress=False)
    assert list(tmp_path.rglob("evil.txt")) == []
    assert not (root / "toy").exists()
    assert [p for p in leftovers(root) if not p.endswith(".sha256")] == []


def test_tar_with_a_symlink_is_refused(tmp_path, root):
    source = tmp_path / "toy.tar.gz"
    with tarfile.open(source, "w:gz") as tf:
        for name, data in TOY_FILES.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("toy/train/link")
        link.type, link.linkname = tarfile.SYMTYPE, str(tmp_path)
        tf.addfile(link)
    toy_dataset()
    with pytest.raises(DatasetUnavailableError, match="refusing"):
        fetch("toy", root=root, url=source.as_uri(), progress=False)
    assert not (root / "toy").exists()


# --------------------------------------------------------------------------- the registry
def test_unknown_name_lists_the_registered_ones(root):
    with pytest.raises(ValueError) as err:
        fetch("cifar-1000", root=root)
    assert all(name in str(err.value) for name in ("facades", "horse2zebra", "mnist"))
    assert leftovers(root) == []


def test_canonical_datasets_are_registered_with_offline_defaults():
    for name in ("facades", "horse2zebra", "mnist"):
        ds = download.REGISTRY[name]
        assert ds.name == name and ds.url.startswith("http") and ds.offline_default.strip()
        assert all(m.startswith(f"{name}/") for m in ds.members)
    assert download.REGISTRY["facades"].members == ("facades/train/", "facades/val/", "facades/test/")
    assert download.REGISTRY["mnist"].extract is False
    assert "digits(size=28)" in download.REGISTRY["mnist"].offline_default


def test_register_rejects_members_outside_the_dataset_folder():
    with pytest.raises(ValueError, match="inside the folder"):
        toy_dataset(members=("elsewhere/train/",))
    assert "toy" not in download.REGISTRY
