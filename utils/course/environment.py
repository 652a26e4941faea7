"""Is this machine ready for the course? A quick, offline check of what the notebooks need (start page, notebook 00).

:func:`check_environment` returns one :class:`Check` per item: Python and the pinned packages, CPU threads and
CUDA, the JupyterLab widgets frontend and the course kernel, the bundled datasets, the cached downloads of
:mod:`utils.data.download`, the ImageNet VGG weights of :mod:`utils.perceptual` and the shipped checkpoints.
:func:`report` turns them into text with a fix for each problem. Nothing here downloads or opens a network
connection, and the whole check takes a few seconds (loading the bundled images and torchvision's table of VGG
weights is most of it).

A failed *required* check means some notebook cannot run; a failed optional one (no GPU, no VGG weights, no cached
dataset) only means the course uses its offline default.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import pkgutil
import platform
import re
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: The course folder (the checkout ``utils`` is installed from, editable).
ROOT = Path(__file__).resolve().parents[2]
#: The packages the learner's notebooks import: missing one is a failure (a different version only a warning).
REQUIRED_PACKAGES = (
    "torch",
    "torchvision",
    "numpy",
    "matplotlib",
    "scikit-image",
    "scikit-learn",
    "ipywidgets",
    "tqdm",
)
#: The order the report lists packages in; any other pin in pyproject.toml (test tools) comes after these.
PACKAGE_ORDER = (
    "torch",
    "torchvision",
    "numpy",
    "matplotlib",
    "scikit-image",
    "scikit-learn",
    "ipywidgets",
    "jupyterlab",
    "ipykernel",
    "tqdm",
)
#: The labextension that draws ipywidgets in JupyterLab (shipped by the ``jupyterlab_widgets`` package).
WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"
#: The kernel the notebooks ask for (their metadata's kernelspec name).
KERNEL = "cgm-course"
#: Which notebook loads which shipped checkpoint, by file-name prefix (for the report).
CHECKPOINT_NOTEBOOKS = {
    "segmenter": "05",
    "pix2pix": "05",
    "digits_cgan": "04",
    "superres": "06",
    "deepfake_detector": "10",
    "digits_": "07",
    "cyclegan": "07",
    "faststyle": "09",
    "face_gan": "10",
}
REINSTALL = ".venv/bin/python -m pip install -e .  (from the course folder: installs every pinned package)"


@dataclass(frozen=True)
class Check:
    """One item of the environment check.

    ``ok``: the item is present and as expected; ``detail``: what was found; ``fix``: what to do when not ok
    (empty when ok); ``required``: whether a notebook cannot run without it (else the course has an offline default).
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    @property
    def status(self) -> str:
        """``"ok"``, ``"warn"`` (an optional item is missing) or ``"FAIL"`` (a required one is)."""
        return "ok" if self.ok else ("FAIL" if self.required else "warn")


# --------------------------------------------------------------------------- Python and packages
def _project(root: Path = ROOT) -> tuple[list[str], str]:
    """The dependencies and ``requires-python`` of pyproject.toml; of the installed ``cgm-course`` metadata when there
    is no checkout or no ``tomllib`` (Python 3.10)."""
    try:
        import tomllib

        project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
        return project["dependencies"], project.get("requires-python", ">=3.10")
    except (ImportError, OSError, KeyError):
        try:
            meta = importlib.metadata.metadata("cgm-course")
            requires = importlib.metadata.requires("cgm-course") or []
            runtime = [r for r in requires if "extra ==" not in r]  # not the dev extra (tests, lint)
            return runtime, meta.get("Requires-Python") or ">=3.10"
        except importlib.metadata.PackageNotFoundError:
            return [], ">=3.10"


def pinned_versions(root: Path = ROOT) -> dict[str, str]:
    """The ``name==version`` pins of pyproject.toml, e.g. ``{"torch": "2.14.1", ...}``."""
    return dict(d.split("==", 1) for d in _project(root)[0] if "==" in d)


def check_python(root: Path = ROOT) -> Check:
    """Python's version against ``requires-python`` (the minimum; CI uses 3.11)."""
    spec = _project(root)[1]
    match = re.fullmatch(r">=\s*(\d+)\.(\d+)", spec.strip())
    minimum = (int(match.group(1)), int(match.group(2))) if match else (3, 10)
    ok = sys.version_info[:2] >= minimum
    return Check(
        "Python",
        ok,
        f"{platform.python_version()} ({sys.executable}); the course needs {spec}, CI uses 3.11",
        ""
        if ok
        else f"install Python {minimum[0]}.{minimum[1]} or newer (3.11 is tested), then rebuild the "
        "environment: make clean && make setup PYTHON=python3.11",
    )


def check_package(
    name: str, pin: str | None, required: bool | None = None, version: Callable[[str], str] = importlib.metadata.version
) -> Check:
    """Whether distribution ``name`` is installed, and at the pinned version ``pin`` (None: any version).

    A missing package fails (a warning for one the notebooks do not import); another version is a warning.
    ``version`` looks up the installed version (a stand-in in the tests).
    """
    required = name in REQUIRED_PACKAGES if required is None else required
    install = f'%pip install "{name}=={pin}"' if pin else f"%pip install {name}"
    try:
        found = version(name)
    except importlib.metadata.PackageNotFoundError:
        return Check(
            name,
            False,
            "not installed" + (f" (pinned: {pin})" if pin else ""),
            f"in a notebook cell: {install}, then Kernel > Restart; or {REINSTALL}",
            required,
        )
    if pin is None or found == pin:
        return Check(name, True, found + (" (as pinned)" if pin else ""))
    return Check(
        name,
        False,
        f"{found}, but pyproject.toml pins {pin}: results and timings may differ from the course's",
        f"{install}, then Kernel > Restart; or {REINSTALL}",
        required=False,
    )


def check_packages(root: Path = ROOT) -> list[Check]:
    """One check per pinned package: the notebooks' libraries first, then the rest (JupyterLab, the test tools)."""
    pins = pinned_versions(root)
    names = [n for n in PACKAGE_ORDER if n in pins] + [n for n in pins if n not in PACKAGE_ORDER]
    names += [n for n in REQUIRED_PACKAGES if n not in names]
    return [check_package(n, pins.get(n)) for n in names]


# --------------------------------------------------------------------------- CPU, GPU, Jupyter
def check_cpu() -> Check:
    """CPU cores (those this process may use), and the thread count torch uses now and ``seed_everything`` sets."""
    import torch

    from .. import settings

    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    env = os.environ.get("COURSE_THREADS")
    if env and not (env.strip().isdigit() and int(env) > 0):
        return Check(
            "CPU",
            False,
            f"COURSE_THREADS={env!r} is not a positive whole number: utils.seed_everything() would fail",
            "unset COURSE_THREADS, or set it to a number of threads such as 2",
        )
    course = int(env) if env else min(4, cores)  # what settings.seed_everything() uses
    where = f"COURSE_THREADS={env}" if env else "default: up to 4"
    mode = "quick mode (COURSE_QUICK=1)" if settings.quick_mode() else "learner mode"
    cores_text = f"{cores} CPU cores" + (f" ({usable} usable by this process)" if usable != cores else "")
    return Check(
        "CPU",
        True,
        f"{cores_text}; torch uses {torch.get_num_threads()} threads now, "
        f"utils.seed_everything() sets {course} ({where}); {mode}",
    )


def check_cuda() -> Check:
    """Whether a CUDA GPU is available, and which device ``utils.device()`` picks; no GPU is fine (a warning)."""
    import torch

    from .. import settings

    chosen = settings.device()
    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        return Check(
            "GPU (CUDA)", True, f"{names}; torch CUDA {torch.version.cuda}; utils.device() -> {chosen}", required=False
        )
    if torch.version.cuda is None:
        build = f"this torch is a CPU-only build ({torch.__version__})"
        gpu_fix = "with an NVIDIA GPU, install the CUDA build of the pinned torch (see pytorch.org)"
    else:
        build = f"torch {torch.__version__} was built for CUDA {torch.version.cuda}, but finds no GPU"
        gpu_fix = (
            f"this torch already supports CUDA: on a machine with an NVIDIA GPU and a driver for CUDA "
            f"{torch.version.cuda} (`nvidia-smi` shows it) the notebooks use the GPU as they are"
        )
    return Check(
        "GPU (CUDA)",
        False,
        f"no CUDA GPU: {build}; utils.device() -> {chosen}",
        f"nothing to do: every notebook runs on a CPU (the README's times are CPU times); {gpu_fix}",
        required=False,
    )


def labextension_dirs() -> list[Path]:
    """The folders JupyterLab reads prebuilt extensions from: jupyter_core's data path, else sys.prefix's."""
    try:
        from jupyter_core.paths import jupyter_path

        return [Path(p) for p in jupyter_path("labextensions")]
    except ImportError:
        return [Path(sys.prefix) / "share" / "jupyter" / "labextensions"]


def check_widgets_frontend(
    dirs: list[Path] | None = None, version: Callable[[str], str] = importlib.metadata.version
) -> Check:
    """Whether JupyterLab can draw ipywidgets: ``jupyterlab_widgets`` installed and its labextension found.

    Without it, the interactive explorers (sliders, choosers) show as text such as ``VBox(children=(...))``.
    """
    pin = pinned_versions().get("ipywidgets")
    fix = (
        f'%pip install "ipywidgets{"==" + pin if pin else ""}" (it brings jupyterlab_widgets and its '
        "labextension), then stop and restart JupyterLab (`make lab`) and reload the browser page"
    )
    try:
        package = f"jupyterlab_widgets {version('jupyterlab_widgets')}"
    except importlib.metadata.PackageNotFoundError:
        return Check(
            "widgets frontend",
            False,
            "jupyterlab_widgets is not installed: sliders would show as text",
            fix,
            required=False,
        )
    dirs = labextension_dirs() if dirs is None else dirs
    for folder in dirs:
        ext = folder / WIDGETS_EXTENSION
        if (ext / "package.json").is_file():
            ext_version = json.loads((ext / "package.json").read_text()).get("version", "?")
            return Check(
                "widgets frontend",
                True,
                f"{package}; labextension {WIDGETS_EXTENSION} {ext_version} in {folder}",
                required=False,
            )
    return Check(
        "widgets frontend",
        False,
        f"{package}, but no labextension {WIDGETS_EXTENSION} in "
        f"{', '.join(str(d) for d in dirs) or 'any labextensions folder'}: "
        "sliders would show as text",
        fix,
        required=False,
    )


def check_kernel() -> Check:
    """Whether the kernel the notebooks ask for (``cgm-course``) is installed for Jupyter."""
    fix = (
        f'.venv/bin/python -m ipykernel install --sys-prefix --name {KERNEL} --display-name "Python ({KERNEL})" '
        "(`make setup` does this)"
    )
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        specs = KernelSpecManager().find_kernel_specs()
    except Exception as err:  # jupyter_client missing or a broken kernel folder
        return Check(f"kernel {KERNEL}", False, f"could not list Jupyter kernels ({err})", fix, required=False)
    if KERNEL in specs:
        return Check(f"kernel {KERNEL}", True, f"installed in {specs[KERNEL]}", required=False)
    return Check(
        f"kernel {KERNEL}",
        False,
        f"not installed (found: {', '.join(sorted(specs)) or 'none'}); the notebooks ask for it by name",
        fix,
        required=False,
    )


def check_utils_imports() -> Check:
    """Every module of the course's ``utils`` package imports (a missing library shows up here by name)."""
    import utils

    failed, names = [], []
    for info in pkgutil.iter_modules(utils.__path__):
        names.append(info.name)
        try:
            importlib.import_module(f"utils.{info.name}")
        except Exception as err:  # report every broken module, not just the first
            failed.append(f"utils.{info.name}: {type(err).__name__}: {err}")
    if failed:
        return Check(
            "utils package", False, "; ".join(failed), f"install what is missing ({REINSTALL}), then Kernel > Restart"
        )
    return Check("utils package", True, f"{len(names)} modules import, from {Path(utils.__file__).parent}")


# --------------------------------------------------------------------------- data and weights
def _try(name: str, loaders: dict[str, Callable[[], object]], fix: str) -> Check:
    """Run each loader; ok when all return. The detail lists what loaded and what failed."""
    loaded, failed = [], []
    for label, load in loaders.items():
        try:
            load()
            loaded.append(label)
        except Exception as err:  # a broken or partial install of the library that ships the data
            failed.append(f"{label} ({type(err).__name__}: {err})")
    if failed:
        return Check(
            name, False, f"failed: {'; '.join(failed)}" + (f"; loaded: {', '.join(loaded)}" if loaded else ""), fix
        )
    return Check(name, True, ", ".join(loaded))


def check_bundled_data() -> list[Check]:
    """The offline datasets that ship with scikit-learn and scikit-image, each loaded once (a few milliseconds)."""

    def skimage_loader(name: str) -> Callable[[], object]:
        def load() -> object:
            import skimage.data

            return getattr(skimage.data, name)()

        return load

    def sklearn_image(name: str) -> Callable[[], object]:
        def load() -> object:
            from sklearn.datasets import load_sample_image

            return load_sample_image(f"{name}.jpg")

        return load

    def digits() -> object:
        from sklearn.datasets import load_digits

        images = load_digits().images
        assert images.shape == (1797, 8, 8), images.shape
        return images

    def lfw() -> object:
        import skimage.data

        faces = skimage.data.lfw_subset()
        assert faces.shape == (200, 25, 25), faces.shape
        return faces

    pins = pinned_versions()

    def reinstall(package: str) -> str:
        return f'the data ship with {package}: %pip install --force-reinstall "{package}=={pins.get(package)}"'

    return [
        _try("digits (sklearn)", {"load_digits: 1,797 images of 8x8": digits}, reinstall("scikit-learn")),
        _try(
            "photos (skimage)",
            {n: skimage_loader(n) for n in ("astronaut", "chelsea", "coffee", "rocket")},
            reinstall("scikit-image"),
        ),
        _try(
            "textures (skimage)",
            {n: skimage_loader(n) for n in ("brick", "grass", "gravel")},
            reinstall("scikit-image"),
        ),
        _try("faces (skimage)", {"lfw_subset: 200 images of 25x25": lfw}, reinstall("scikit-image")),
        _try(
            "photos (sklearn)",
            {n: sklearn_image(n) for n in ("china", "flower")},
            reinstall("scikit-learn") + " (load_sample_image also needs Pillow, which matplotlib brings)",
        ),
    ]


def check_downloads(root: Path | None = None) -> list[Check]:
    """Which datasets of ``utils.data.download.REGISTRY`` are in the cache, looked up on disk (never downloaded)."""
    from ..data import download

    root = download.cache_dir() if root is None else Path(root)
    env = download.CACHE_ENV
    moved = f"from ${env}" if os.environ.get(env) else f"set ${env} to move it"
    checks = [
        Check(
            "download cache",
            True,
            f"{root} ({'exists' if root.is_dir() else 'not created yet'}; {moved})",
            required=False,
        )
    ]
    for ds in download.REGISTRY.values():
        archive = root / ds.filename
        if ds.extract:
            complete = not download._missing(root, ds.members)
            where = root / ds.name
        else:
            complete = archive.is_file()
            where = archive
        if complete:
            checks.append(Check(f"download: {ds.name}", True, f"cached in {where}", required=False))
            continue
        detail = (
            f"archive {archive.name} cached, unpacked on first use" if archive.is_file() else "not cached"
        ) + f"; offline the course uses {ds.offline_default}"
        checks.append(
            Check(
                f"download: {ds.name}",
                archive.is_file(),
                detail,
                ""
                if archive.is_file()
                else f"optional. Online, utils.data.download.fetch({ds.name!r}) downloads it once (offline, it "
                "says where to put a file downloaded by hand)",
                required=False,
            )
        )
    return checks


def check_vgg_weights(arch: str = "vgg16") -> Check:
    """Whether torchvision's ImageNet weights for ``arch`` are in the torch hub cache (looked up, not downloaded)."""
    from ..data import vgg_weights

    url = vgg_weights.imagenet_url(arch)
    path = vgg_weights.weights_path(url)
    if path.is_file():
        size = path.stat().st_size / 2**20
        return Check(
            f"VGG weights ({arch})",
            True,
            f"ImageNet weights at {path} ({size:.0f} MiB; their hash is checked when notebook 08 loads them)",
            required=False,
        )
    return Check(
        f"VGG weights ({arch})",
        False,
        f"no ImageNet weights at {path}: notebooks 08 and 09 use a seeded random-weights {arch} instead "
        "(it still makes textures and transfers style, less well; each notebook says which it used)",
        f"optional. Online: utils.perceptual.imagenet_weights({arch!r}) downloads them once (over 500 MB); "
        f"or download {url} by hand and put it at {path}",
        required=False,
    )


def check_checkpoints(folder: Path | None = None) -> Check:
    """Every checkpoint listed in ``folder/SHA256SUMS`` exists with its SHA-256.

    Each is checked with ``utils.course.checkpoints.verify_checkpoint``.
    """
    from . import checkpoints

    folder = checkpoints.CHECKPOINTS if folder is None else Path(folder)
    sums = folder / "SHA256SUMS"
    fix = (
        "restore the shipped files from git (git checkout -- notebooks/checkpoints/), or retrain a model with "
        "the scripts/train_*.py that wrote it (see docs/checkpoints.md)"
    )
    if not sums.is_file():
        return Check("shipped checkpoints", False, f"no {sums}", fix)
    names = [line.split()[-1] for line in sums.read_text().splitlines() if line.strip()]
    failed = []
    for name in names:
        try:
            checkpoints.verify_checkpoint(name, folder)
        except (OSError, ValueError) as err:
            notebook = next((nb for prefix, nb in CHECKPOINT_NOTEBOOKS.items() if name.startswith(prefix)), None)
            failed.append(f"{name}{f' (notebook {notebook})' if notebook else ''}: {err}")
    if failed:
        return Check(
            "shipped checkpoints",
            False,
            f"{len(failed)} of {len(names)} fail their SHA-256 check: " + "; ".join(failed),
            fix,
        )
    return Check("shipped checkpoints", True, f"all {len(names)} in {folder} match SHA256SUMS")


# --------------------------------------------------------------------------- the whole check, and its report
def check_environment(root: Path = ROOT) -> list[Check]:
    """Every check, in the report's order. Offline, read-only and quick (a few seconds)."""
    checks = [
        check_python(root),
        *check_packages(root),
        check_utils_imports(),
        check_cpu(),
        check_cuda(),
        check_widgets_frontend(),
        check_kernel(),
        *check_bundled_data(),
        *check_downloads(),
        check_vgg_weights("vgg16"),
        check_checkpoints(),
    ]
    return checks


def failures(checks: list[Check]) -> list[Check]:
    """The required checks that failed: what keeps some notebook from running."""
    return [c for c in checks if c.required and not c.ok]


def report(checks: list[Check], width: int = 110) -> str:
    """The checks as text: a line per check (``ok``/``warn``/``FAIL``, name, what was found), a fix under each
    problem, and a summary line."""
    name_width = max((len(c.name) for c in checks), default=0) + 2
    indent = " " * (6 + name_width)
    lines = []
    for c in checks:
        head = f"{c.status:<6}{c.name:<{name_width}}"
        lines += textwrap.wrap(
            c.detail,
            width,
            initial_indent=head,
            subsequent_indent=indent,
            break_on_hyphens=False,
            break_long_words=False,
        ) or [head.rstrip()]
        if not c.ok and c.fix:
            lines += textwrap.wrap(
                c.fix,
                width,
                initial_indent=indent + "fix: ",
                subsequent_indent=indent + "     ",
                break_on_hyphens=False,
                break_long_words=False,
            )
    n_fail = len(failures(checks))
    n_warn = sum(not c.ok and not c.required for c in checks)
    if n_fail:
        verdict = "NOT ready: fix the FAIL lines above, then run this check again"
    else:
        verdict = "ready: every notebook can run"
        if n_warn:
            verdict += " (the warnings only mean offline defaults or a CPU)"
    lines.append(f"\n{len(checks) - n_fail - n_warn} ok, {n_warn} warnings, {n_fail} failures: {verdict}")
    return "\n".join(lines)
