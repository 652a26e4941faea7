"""Download the course's online datasets (facades, horse2zebra, MNIST) into a local cache, checked and unpacked.

The downloading is done by ``pooch``: :func:`pooch.retrieve` streams a file into a temporary name, checks its
sha256 (``known_hash``) and only then moves it into place; ``pooch.Untar``/``pooch.Unzip`` unpack archives. This
module adds what the course needs on top: a size check, a sha256 pinned on first download where no checksum is
published, ``file://`` URLs, archive members that may not escape the cache, a structure check before the folder is
renamed into place, and, offline, a :class:`DatasetUnavailableError` that names the offline default to use instead.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import shutil
import tarfile
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import pooch
from tqdm.auto import tqdm

#: Environment variable that moves the cache (default: ``~/.cache/cgm-course``).
CACHE_ENV = "COURSE_DATA"
CHUNK = 1 << 20  # read (and copy) 1 MiB at a time
TIMEOUT = 30  # seconds before an unresponsive server counts as unreachable


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
        offline_default=(
            "utils.data.typeset_digits with utils.data.digits (handwritten <-> typeset digits, notebook 07)"
        ),
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
    """The hex sha256 of a file (pooch reads it in chunks)."""
    return pooch.file_hash(str(path), alg="sha256")


def fetch(name: str, root: str | Path | None = None, url: str | None = None, progress: bool = True) -> Path:
    """Download, check and unpack dataset ``name`` (once); return its folder, or its file when not an archive."""
    if name not in REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; registered datasets: {', '.join(sorted(REGISTRY))}")
    ds = REGISTRY[name]
    root = Path(root) if root is not None else cache_dir()
    url = url or ds.url
    archive = root / ds.filename
    if ds.extract and not _missing(root, ds.members):
        return root / ds.name  # already unpacked and complete: no network
    root.mkdir(parents=True, exist_ok=True)
    _drop_wrong_size(ds, archive)
    expected = _expected_sha256(ds, root)
    unpack_dir = root / f".{ds.name}-unpacking-{uuid.uuid4().hex[:8]}"
    processor = _processor(archive, unpack_dir) if ds.extract else None
    downloader = _downloader(ds.name, progress, fail=lambda reason: _unavailable(ds, url, archive, reason))
    try:
        with _quiet_pooch():
            pooch.retrieve(
                url,
                known_hash=f"sha256:{expected}" if expected else None,  # None: pooch checks nothing (pinned below)
                fname=ds.filename,
                path=root,
                downloader=_with_check(downloader, lambda part: _check_size(ds, part)),
                processor=processor,
            )
        if ds.extract:
            _move_into_place(ds, archive, unpack_dir, root)
    except ValueError as err:
        if "hash" not in str(err):
            raise
        archive.unlink(missing_ok=True)  # a cached file that failed its check is of no use either
        source = "published" if ds.sha256 else f"pinned in {_pin_file(ds, root)}; delete that file if intended"
        raise DatasetUnavailableError(
            f"checksum mismatch for {ds.name}: expected sha256 {expected} ({source}); {err}. "
            f"The corrupt file was removed; nothing was cached."
        ) from err
    except DatasetUnavailableError:
        archive.unlink(missing_ok=True)  # a bad archive is of no use: the next fetch downloads it again
        raise
    finally:
        shutil.rmtree(unpack_dir, ignore_errors=True)
    if expected is None:
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
    """Record the sha256 of a first download so that later downloads are checked against it.

    pooch lacks this trust-on-first-use: with ``known_hash=None`` it only logs the hash, so we keep it on disk.
    """
    digest = sha256_of(archive)
    _pin_file(ds, root).write_text(f"{digest}  {ds.filename}\n")  # the format of `sha256sum`
    print(
        f"no published checksum for {ds.name}: pinned sha256 {digest} on first download; "
        f"later downloads are checked against it"
    )


def _check_size(ds: Dataset, path: Path) -> None:
    """Raise DatasetUnavailableError unless ``path`` has the expected size (pooch checks hashes, not sizes)."""
    got = path.stat().st_size
    if ds.size is not None and got != ds.size:
        raise DatasetUnavailableError(
            f"{ds.name}: expected {ds.size} bytes, got {got}; the corrupt file was removed, fetch again"
        )


def _drop_wrong_size(ds: Dataset, archive: Path) -> None:
    """Remove a cached file of the wrong size (pooch re-downloads one whose hash is wrong by itself)."""
    try:
        if archive.exists():
            _check_size(ds, archive)
    except DatasetUnavailableError as err:
        archive.unlink()
        print(f"the cached {archive} failed its check ({err}); downloading it again")


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


@contextlib.contextmanager
def _quiet_pooch() -> Iterator[None]:
    """Hide pooch's INFO log (its "use this hash as known_hash" advice is for library authors, not learners)."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


Downloader = Callable[..., None]


class _Bar:
    """pooch's progress-bar protocol (total, update, reset, close) over a ``tqdm.auto`` bar.

    pooch tests ``if progressbar:``, and a tqdm bar without a total refuses ``bool()``: this one is always true.
    """

    def __init__(self, desc: str, progress: bool) -> None:
        self.bar = tqdm(unit="B", unit_scale=True, unit_divisor=1024, desc=desc, disable=not progress)

    def __bool__(self) -> bool:
        return True

    @property
    def total(self) -> int | None:
        """The announced size in bytes (None: unknown)."""
        return self.bar.total

    @total.setter
    def total(self, value: int | None) -> None:
        self.bar.total = value or None  # pooch says 0 when the server sends no Content-Length

    def update(self, n: int) -> None:
        """Advance by ``n`` bytes."""
        self.bar.update(n)

    def reset(self) -> None:
        """Start counting again (pooch then adds the total at once)."""
        self.bar.reset(total=self.bar.total)

    def close(self) -> None:
        """Finish the bar."""
        self.bar.close()


def _urlopen_to(url: str, output_file: str, bar: _Bar, fail: Callable[[str], Exception]) -> None:
    """Stream ``url`` to ``output_file`` with ``urllib.request.urlopen``, checking the announced length.

    pooch's downloaders speak http(s), ftp, sftp and doi but not ``file://``, and its HTTPDownloader goes through
    ``requests``: where a caller's code and tests treat ``urllib.request.urlopen`` as the network (the VGG weights of
    utils.perceptual through :func:`fetch_checked`), or for a ``file://`` URL, this small transport is used instead.
    """
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            length = response.headers.get("Content-Length")
            bar.total = int(length) if length else None
            received = 0
            with open(output_file, "wb") as f:
                while chunk := response.read(CHUNK):
                    f.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except (OSError, http.client.HTTPException) as err:  # URLError, refused, timed out, cut off...
        raise fail(str(err) or repr(err)) from err
    if bar.total is not None and received != bar.total:
        raise fail(f"the download was interrupted after {received} of {bar.total} bytes")


def _incomplete_read(err: BaseException) -> tuple[int, int] | None:
    """(bytes read, bytes missing) of the urllib3 ``IncompleteRead`` behind ``err`` (requests wraps it), else None."""
    from urllib3.exceptions import IncompleteRead

    todo: list[object] = [err]
    visited: set[int] = set()
    while todo:
        e = todo.pop()
        if id(e) in visited:
            continue
        visited.add(id(e))
        if isinstance(e, IncompleteRead):
            return int(e.partial), int(e.expected)
        if isinstance(e, BaseException):
            todo.extend([*e.args, e.__cause__, e.__context__])
    return None


def _downloader(desc: str, progress: bool, fail: Callable[[str], Exception], urllib_only: bool = False) -> Downloader:
    """A pooch downloader with a tqdm bar: ``pooch.HTTPDownloader`` for http(s) (``urllib`` for ``file://`` and
    where ``urllib_only``, see :func:`_urlopen_to`); network trouble raises ``fail(reason)``."""
    import requests  # pooch's HTTP client

    def download(url: str, output_file: str, pup: object = None, check_only: bool = False) -> None:
        bar = _Bar(desc, progress)
        try:
            if urllib_only or urllib.parse.urlparse(url).scheme == "file":
                _urlopen_to(url, output_file, bar, fail)
            else:
                pooch.HTTPDownloader(progressbar=bar, chunk_size=CHUNK, timeout=TIMEOUT)(url, output_file, pup)
        except (OSError, requests.RequestException) as err:  # refused, timed out, 404, cut off...
            cut = _incomplete_read(err)
            if cut is not None:  # the connection broke mid-file: say how far it got
                raise fail(f"the download was interrupted after {cut[0]} of {cut[0] + cut[1]} bytes") from err
            raise fail(str(err)) from err
        finally:
            bar.close()

    return download


def _with_check(downloader: Downloader, check: Callable[[Path], None]) -> Downloader:
    """Run ``check`` on pooch's temporary file once it is complete, before pooch moves it into place."""

    def download(url: str, output_file: str, pup: object = None, check_only: bool = False) -> None:
        downloader(url, output_file, pup)
        check(Path(output_file))

    return download


def fetch_checked(
    url: str, dest: Path, desc: str, progress: bool, check: Callable[[Path], None], fail: Callable[[str], Exception]
) -> None:
    """Download ``url`` with pooch and a progress bar, ``check`` the complete file, then rename it to ``dest``.

    Network trouble raises ``fail(reason)``; whatever goes wrong (a failed check, Ctrl-C), no half file is left.
    pooch writes to a temporary file and moves it to ``dest.part`` once complete (it would skip the download were
    ``dest`` already there); ``check`` runs on the temporary file, and only a checked ``.part`` is renamed to ``dest``.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    try:
        with _quiet_pooch():
            pooch.retrieve(
                url,
                known_hash=None,  # the caller's check() does the checking (e.g. a hash prefix pooch cannot take)
                fname=part.name,
                path=dest.parent,
                downloader=_with_check(_downloader(desc, progress, fail, urllib_only=True), check),
            )
        os.replace(part, dest)  # atomic: the final name only ever holds a complete, checked file
    except BaseException:  # including KeyboardInterrupt: never leave a half file behind
        part.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- extraction
def _unsafe(member: str) -> bool:
    """True for an archive member that could land outside the extraction folder."""
    parts = PurePosixPath(member.replace("\\", "/")).parts
    return PurePosixPath(member).is_absolute() or PureWindowsPath(member).is_absolute() or ".." in parts


class _SafeUnzip(pooch.Unzip):
    """``pooch.Unzip`` that refuses escaping members (zipfile silently rewrites them; we want to be told)."""

    def _extract_file(self, fname: str, extract_dir: str) -> None:
        with zipfile.ZipFile(fname) as zf:
            bad = [n for n in zf.namelist() if _unsafe(n)]
        if bad:
            raise DatasetUnavailableError(f"refusing to unpack {fname}: unsafe member paths {bad}; it was removed")
        super()._extract_file(fname, extract_dir)


class _SafeUntar(pooch.Untar):
    """``pooch.Untar`` that refuses escaping members, links and devices (pooch filters only on Python >= 3.12)."""

    def _extract_file(self, fname: str, extract_dir: str) -> None:
        with tarfile.open(fname) as tf:
            bad = [m.name for m in tf.getmembers() if _unsafe(m.name) or not (m.isfile() or m.isdir())]
        if bad:
            raise DatasetUnavailableError(
                f"refusing to unpack {fname}: unsafe member paths, links or devices {bad}; it was removed"
            )
        super()._extract_file(fname, extract_dir)


def _processor(archive: Path, unpack_dir: Path) -> Callable[[str, str, object], object]:
    """The pooch processor that unpacks ``archive`` into ``unpack_dir`` (a fresh folder, so it always unpacks)."""
    if archive.name.endswith(".zip"):
        extractor: pooch.processors.ExtractorProcessor = _SafeUnzip(extract_dir=str(unpack_dir))
    elif archive.name.endswith((".tar.gz", ".tgz", ".tar")):
        extractor = _SafeUntar(extract_dir=str(unpack_dir))
    else:
        raise ValueError(f"cannot tell the archive type of {archive.name}: expected .zip, .tar.gz, .tgz or .tar")

    def process(fname: str, action: str, pup: object) -> object:
        try:
            return extractor(fname, action, pup)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError) as err:
            raise DatasetUnavailableError(f"{fname} is not a readable archive ({err}); it was removed") from err

    return process


def _move_into_place(ds: Dataset, archive: Path, unpack_dir: Path, root: Path) -> None:
    """Check the unpacked members, then rename ``<name>/`` into place (pooch has no structure check)."""
    missing = _missing(unpack_dir, ds.members)
    if missing:
        raise DatasetUnavailableError(
            f"the archive does not have the expected structure: {archive} lacks {missing} "
            f"(expected {list(ds.members)}). Check the URL; the archive was removed."
        )
    target = root / ds.name
    if target.exists():  # an incomplete folder from an older run
        shutil.rmtree(target)
    os.replace(unpack_dir / ds.name, target)
