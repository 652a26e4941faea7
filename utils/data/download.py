"""Download the course's online datasets (facades, horse2zebra, MNIST) into a local cache, checked and unpacked.

A download goes to a ``.part`` file that is renamed into place only once its size and sha256 check out, and an
archive is unpacked into a temporary folder that is renamed into place only once its structure checks out.
Offline, :func:`fetch` raises :class:`DatasetUnavailableError`, which names the offline default to use instead.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from tqdm.auto import tqdm

#: Environment variable that moves the cache (default: ``~/.cache/cgm-course``).
CACHE_ENV = "COURSE_DATA"
CHUNK = 1 << 20  # read and hash 1 MiB at a time


@dataclass(frozen=True)
class Dataset:
    """One downloadable dataset: where it lives, how to check it, and what to use offline instead."""

    name: str  # an archive must unpack to a single folder with this name
    url: str
    filename: str  # the archive's (or file's) name in the cache
    sha256: str | None  # None: no published checksum, so the hash is pinned on first download
    size: int | None  # expected bytes, or None
    members: tuple[str, ...]  # paths that must exist once unpacked, e.g. ("facades/train/",)
    offline_default: str  # what to use instead when offline
    extract: bool = True


class DatasetUnavailableError(RuntimeError):
    """A dataset could not be downloaded, checked or unpacked; the message says what to do instead."""


REGISTRY: dict[str, Dataset] = {}


def register(ds: Dataset) -> None:
    """Add (or replace) a dataset in :data:`REGISTRY`; later lessons register their own."""
    if ds.extract and not ds.members:
        raise ValueError(f"{ds.name}: an archive needs at least one expected member for the structure check")
    outside = [m for m in ds.members if ds.extract and not m.startswith(ds.name + "/")]
    if outside:
        raise ValueError(f"{ds.name}: members must lie inside the folder {ds.name + '/'}, got {outside}")
    REGISTRY[ds.name] = ds


# None of these servers publishes a checksum, and we do not make one up: where sha256 is None, fetch() pins
# the sha256 of the first download in <cache>/<filename>.sha256 and checks every later download against it.
register(
    Dataset(
        name="facades",
        url="http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz",
        filename="facades.tar.gz",
        sha256=None,
        size=None,
        members=("facades/train/", "facades/val/", "facades/test/"),
        offline_default="utils.data.facades.facades_pairs (procedural facades, notebook 05)",
    )
)
register(
    Dataset(
        name="horse2zebra",
        url="http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip",
        filename="horse2zebra.zip",
        sha256=None,
        size=None,
        members=("horse2zebra/trainA/", "horse2zebra/trainB/", "horse2zebra/testA/", "horse2zebra/testB/"),
        offline_default="utils.data.typeset_digits with utils.data.digits (handwritten <-> typeset digits, notebook 07)",
    )
)
register(
    Dataset(
        name="monet2photo",
        url="http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/monet2photo.zip",
        filename="monet2photo.zip",
        sha256=None,
        size=None,
        members=("monet2photo/trainA/", "monet2photo/trainB/", "monet2photo/testA/", "monet2photo/testB/"),
        offline_default="utils.data.photo_painting_domains (photos <-> painterly crops, notebook 07)",
    )
)
register(
    Dataset(
        name="mnist",  # MNIST training images (60,000 x 28 x 28, idx format, gzipped) from the PyTorch mirror
        url="https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
        filename="train-images-idx3-ubyte.gz",
        sha256=None,
        size=None,
        members=(),
        offline_default="utils.data.digits(size=28)",
        extract=False,
    )
)


def cache_dir() -> Path:
    """The download cache: ``$COURSE_DATA`` if set, else ``~/.cache/cgm-course``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cgm-course"


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in chunks so large archives do not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(name: str, root: str | Path | None = None, url: str | None = None, progress: bool = True) -> Path:
    """Download, check and unpack dataset ``name`` (once); return its folder, or its file when not an archive."""
    if name not in REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; registered datasets: {', '.join(sorted(REGISTRY))}")
    ds = REGISTRY[name]
    root = Path(root) if root is not None else cache_dir()
    archive = root / ds.filename
    if ds.extract and not _missing(root, ds.members):
        return root / ds.name  # already unpacked and complete: no network
    root.mkdir(parents=True, exist_ok=True)
    if not _cached_ok(ds, archive, root):
        _download(ds, url or ds.url, archive, root, progress)
    if ds.extract:
        _extract(ds, archive, root)
    if _expected_sha256(ds, root) is None:
        _pin(ds, archive, root)
    return root / ds.name if ds.extract else archive


# --------------------------------------------------------------------------- checks
def _missing(folder: Path, members: tuple[str, ...]) -> list[str]:
    """The expected members that do not exist under ``folder``."""
    return [m for m in members if not (folder / m).exists()]


def _pin_file(ds: Dataset, root: Path) -> Path:
    """Where the sha256 pinned on first download is kept."""
    return root / (ds.filename + ".sha256")


def _expected_sha256(ds: Dataset, root: Path) -> str | None:
    """The published sha256, else the one pinned on first download, else None."""
    pin = _pin_file(ds, root)
    if ds.sha256:
        return ds.sha256.lower()
    return pin.read_text().split()[0].lower() if pin.exists() else None


def _pin(ds: Dataset, archive: Path, root: Path) -> None:
    """Record the sha256 of a first download so that later downloads are checked against it."""
    digest = sha256_of(archive)
    _pin_file(ds, root).write_text(f"{digest}  {ds.filename}\n")  # the format of `sha256sum`
    print(
        f"no published checksum for {ds.name}: pinned sha256 {digest} on first download; "
        f"later downloads are checked against it"
    )


def _check(ds: Dataset, path: Path, root: Path) -> None:
    """Raise DatasetUnavailableError unless ``path`` has the expected size and sha256 (when they are known)."""
    got_size = path.stat().st_size
    if ds.size is not None and got_size != ds.size:
        raise DatasetUnavailableError(
            f"{ds.name}: expected {ds.size} bytes, got {got_size}; the corrupt file was removed, fetch again"
        )
    expected = _expected_sha256(ds, root)
    if expected is None:
        return
    got = sha256_of(path)
    if got != expected:
        pin = _pin_file(ds, root)
        source = "published" if ds.sha256 else f"pinned in {pin}; delete that file if the change is intended"
        raise DatasetUnavailableError(
            f"checksum mismatch for {ds.name}: expected sha256 {expected} ({source}), got {got}. "
            f"The corrupt file was removed; nothing was cached."
        )


def _cached_ok(ds: Dataset, archive: Path, root: Path) -> bool:
    """True when the archive is already in the cache and passes its checks; a failing one is removed."""
    if not archive.exists():
        return False
    try:
        _check(ds, archive, root)
        return True
    except DatasetUnavailableError as err:
        archive.unlink()
        print(f"the cached {archive} failed its check ({err}); downloading it again")
        return False


# --------------------------------------------------------------------------- download
def _unavailable(ds: Dataset, url: str, dest: Path, reason: object) -> DatasetUnavailableError:
    """The error for a failed download: what failed, why, and what to do instead."""
    return DatasetUnavailableError(
        f"could not download {ds.name} from {url}\n"
        f"  reason: {reason}\n"
        f"  You appear to be offline (or the server is unreachable); the file was not cached.\n"
        f"  Offline default: use {ds.offline_default} instead,\n"
        f"  or download {url} by hand and put it at {dest}"
    )


def fetch_checked(
    url: str, dest: Path, desc: str, progress: bool, check: Callable[[Path], None], fail: Callable[[str], Exception]
) -> None:
    """Stream ``url`` into ``dest.part`` with a progress bar, ``check(part)``, then rename it to ``dest``.

    Network trouble raises ``fail(reason)``; whatever goes wrong (a failed check, Ctrl-C), no half file is left.
    """
    part = dest.with_name(dest.name + ".part")
    try:
        try:
            response = urllib.request.urlopen(url, timeout=30)
        except (OSError, http.client.HTTPException) as err:  # URLError, socket.timeout, ConnectionError...
            raise fail(str(err)) from err
        with response:
            length = response.headers.get("Content-Length")
            total = int(length) if length else None
            received = 0
            with (
                open(part, "wb") as f,
                tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, disable=not progress) as bar,
            ):
                try:
                    while chunk := response.read(CHUNK):
                        f.write(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
                except (OSError, http.client.HTTPException) as err:
                    raise fail(f"the download was interrupted: {err!r}") from err
        if total is not None and received != total:
            raise fail(f"the download was interrupted after {received} of {total} bytes")
        check(part)
        os.replace(part, dest)  # atomic: the final name only ever holds a complete, checked file
    except BaseException:  # including KeyboardInterrupt: never leave a half file behind
        part.unlink(missing_ok=True)
        raise


def _download(ds: Dataset, url: str, dest: Path, root: Path, progress: bool) -> None:
    """Download one file of ``ds`` to ``dest`` through :func:`fetch_checked`, checked against its SHA-256."""
    fetch_checked(
        url,
        dest,
        ds.name,
        progress,
        check=lambda part: _check(ds, part, root),
        fail=lambda reason: _unavailable(ds, url, dest, reason),
    )


# --------------------------------------------------------------------------- extraction
def _unsafe(member: str) -> bool:
    """True for an archive member that could land outside the extraction folder."""
    parts = PurePosixPath(member.replace("\\", "/")).parts
    return PurePosixPath(member).is_absolute() or PureWindowsPath(member).is_absolute() or ".." in parts


def _unpack(archive: Path, folder: Path) -> None:
    """Unpack a .zip or .tar(.gz) into ``folder``, refusing members that would escape it."""
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            bad = [n for n in zf.namelist() if _unsafe(n)]
            if bad:
                raise DatasetUnavailableError(
                    f"refusing to unpack {archive}: unsafe member paths {bad}; it was removed"
                )
            zf.extractall(folder)
    elif archive.name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            bad = [m.name for m in members if _unsafe(m.name) or not (m.isfile() or m.isdir())]
            if bad:
                raise DatasetUnavailableError(
                    f"refusing to unpack {archive}: unsafe member paths, links or devices {bad}; it was removed"
                )
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4 / 3.10.12: a second line of defence
                tf.extractall(folder, filter="data")
            else:
                tf.extractall(folder)
    else:
        raise ValueError(f"cannot tell the archive type of {archive.name}: expected .zip, .tar.gz, .tgz or .tar")


def _extract(ds: Dataset, archive: Path, root: Path) -> None:
    """Unpack into a temporary folder, check the expected members, then rename ``<name>/`` into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{ds.name}-unpacking-", dir=root))
    try:
        try:
            _unpack(archive, tmp)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError) as err:
            raise DatasetUnavailableError(f"{archive} is not a readable archive ({err}); it was removed") from err
        missing = _missing(tmp, ds.members)
        if missing:
            raise DatasetUnavailableError(
                f"the archive does not have the expected structure: {archive} lacks {missing} "
                f"(expected {list(ds.members)}). Check the URL; the archive was removed."
            )
        target = root / ds.name
        if target.exists():  # an incomplete folder from an older run
            shutil.rmtree(target)
        os.replace(tmp / ds.name, target)
    except DatasetUnavailableError:
        archive.unlink(missing_ok=True)  # a bad archive is of no use: the next fetch downloads it again
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
