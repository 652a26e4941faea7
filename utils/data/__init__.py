"""Data: 2-D Gaussian mixtures, the bundled digits, and bundled photos and textures as tensors.

Everything here works offline. Online datasets (facades, horse2zebra, MNIST, ...) go through
:mod:`utils.data.download`, which says which of these offline defaults to use when it cannot reach the network.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import TensorDataset

from .. import validate


# --------------------------------------------------------------------------- 2-D Gaussian mixtures
@dataclass(frozen=True)
class Mixture:
    """An equal-weight mixture of isotropic 2-D Gaussians: ``modes`` (K, 2) means, one shared ``std``."""

    modes: Tensor
    std: float
    name: str = "mixture"

    @property
    def n_modes(self) -> int:
        """Number of modes K."""
        return int(self.modes.shape[0])

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Draw ``n`` points: returns ``(x, labels)`` with x (n, 2) float32 and labels (n,) int64 mode indices."""
        validate.positive_int(n, "n")
        labels = torch.randint(self.n_modes, (n,), generator=generator)
        noise = torch.randn(n, 2, generator=generator) * self.std
        return self.modes[labels] + noise, labels

    def sampler(self, generator: torch.Generator | None = None) -> Callable[[int], Tensor]:
        """A function ``batch_size -> (batch_size, 2)`` real points, the form ``utils.train.train_gan`` expects."""
        return lambda n: self.sample(n, generator)[0]

    def extent(self, margin: float = 0.5) -> tuple[float, float, float, float]:
        """A square plotting window around the modes: ``(xmin, xmax, ymin, ymax)``."""
        r = float(self.modes.abs().max()) + margin
        return (-r, r, -r, r)


def ring(n_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> Mixture:
    """The ring of ``n_modes`` Gaussians evenly spaced on a circle (angles 2*pi*k/K, no duplicate mode)."""
    validate.positive_int(n_modes, "n_modes")
    angles = 2 * math.pi * torch.arange(n_modes, dtype=torch.float64) / n_modes
    modes = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return Mixture(modes.float(), float(std), f"ring{n_modes}")


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> Mixture:
    """The ``side`` x ``side`` grid of Gaussians, ``spacing`` apart and centred on 0 (5x5: coordinates -4..4)."""
    validate.positive_int(side, "side")
    coords = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    xs, ys = torch.meshgrid(coords, coords, indexing="ij")
    modes = torch.stack([xs.flatten(), ys.flatten()], dim=1)
    return Mixture(modes, float(std), f"grid{side * side}")


# --------------------------------------------------------------------------- images
def to_tensor_image(array: np.ndarray) -> Tensor:
    """A NumPy image (H, W) or (H, W, C), uint8 or float in [0, 1], as a float tensor (C, H, W) in [-1, 1]."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected a NumPy array, got {type(array).__name__}")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(f"an image array must have shape (H, W) or (H, W, C), got {array.shape}")
    if array.dtype == np.uint8:
        x = torch.from_numpy(array.astype(np.float32) / 255.0)
    else:
        x = torch.from_numpy(array.astype(np.float32))
        if x.numel() and (float(x.min()) < 0 or float(x.max()) > 1):
            raise ValueError("a float image array must lie in [0, 1]")
    return x.permute(2, 0, 1).contiguous() * 2 - 1


def resize(x: Tensor, size: int | tuple[int, int]) -> Tensor:
    """Resize images (N, C, H, W) or one image (C, H, W) to ``size`` (antialiased bilinear), staying in [-1, 1]."""
    validate.tensor(x, "x")
    if x.dim() not in (3, 4):
        raise ValueError(f"x must have shape (C, H, W) or (N, C, H, W), got {tuple(x.shape)}")
    hw = (size, size) if isinstance(size, int) else tuple(size)
    batch = x if x.dim() == 4 else x.unsqueeze(0)
    upsampling = hw[0] > batch.shape[-2] or hw[1] > batch.shape[-1]
    out = F.interpolate(batch, size=hw, mode="bilinear", align_corners=False, antialias=not upsampling)
    out = out.clamp(-1, 1)
    return out if x.dim() == 4 else out[0]


def digits(size: int = 16, split: str = "all", test_fraction: float = 0.2, seed: int = 0) -> TensorDataset:
    """scikit-learn's 1,797 bundled 8x8 handwritten digits as ``(images (N, 1, size, size) in [-1, 1], labels (N,))``.

    ``split`` is "all", "train" or "test"; the split is stratified by class and fixed by ``seed``.
    """
    from sklearn.datasets import load_digits

    if split not in ("all", "train", "test"):
        raise ValueError(f"split must be 'all', 'train' or 'test', got {split!r}")
    validate.positive_int(size, "size")
    bunch = load_digits()
    images = torch.from_numpy(bunch.images.astype(np.float32) / 16.0 * 2 - 1).unsqueeze(1)  # (N, 1, 8, 8)
    labels = torch.from_numpy(bunch.target.astype(np.int64))
    if size != 8:
        images = resize(images, size)
    if split != "all":
        rng = np.random.default_rng(seed)
        test_mask = np.zeros(len(labels), dtype=bool)
        for c in range(10):
            idx = np.flatnonzero(bunch.target == c)
            rng.shuffle(idx)
            test_mask[idx[: int(round(len(idx) * test_fraction))]] = True
        keep = torch.from_numpy(test_mask if split == "test" else ~test_mask)
        images, labels = images[keep], labels[keep]
    return TensorDataset(images, labels)


#: Photos bundled with scikit-image and scikit-learn (colour), and textures bundled with scikit-image (grey).
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "china", "flower")
TEXTURES = ("brick", "grass", "gravel")


def bundled_image(name: str, size: int | tuple[int, int] | None = None, grey: bool = False) -> Tensor:
    """A bundled photo or texture as a tensor (C, H, W) in [-1, 1]; C is 3 (or 1 with ``grey=True``; textures are 1).

    ``size`` resizes the (centre-cropped to square, when an int is given) image; ``None`` keeps it as stored.
    """
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        array = load_sample_image(f"{name}.jpg")
    elif name in PHOTOS or name in TEXTURES:
        import skimage.data

        array = getattr(skimage.data, name)()
    else:
        raise ValueError(f"unknown bundled image {name!r}; choose one of {PHOTOS + TEXTURES}")
    x = to_tensor_image(array)
    if grey and x.shape[0] == 3:
        x = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]).unsqueeze(0)
    if isinstance(size, int):
        h, w = x.shape[-2:]
        s = min(h, w)
        top, left = (h - s) // 2, (w - s) // 2
        x = x[:, top : top + s, left : left + s]
    if size is not None:
        x = resize(x, size)
    return x


def faces() -> TensorDataset:
    """scikit-image's ``lfw_subset``: 200 grey 25x25 faces (100 faces, 100 non-faces) as images (200, 1, 25, 25) in
    [-1, 1] and labels (200,) with 1 for a face."""
    import skimage.data

    array = skimage.data.lfw_subset().astype(np.float32)  # (200, 25, 25) in [0, 1]
    images = torch.from_numpy(array).unsqueeze(1) * 2 - 1
    labels = torch.cat([torch.ones(100, dtype=torch.int64), torch.zeros(100, dtype=torch.int64)])
    return TensorDataset(images, labels)


def face_images(size: int = 32, split: str = "all", test_count: int = 20, seed: int = 0) -> Tensor:
    """The 100 faces of ``lfw_subset`` (each a different photo; we treat each as one person) as (N, 1, size, size)
    in [-1, 1]: all 100, or a fixed random ``"train"`` (100 - test_count) / ``"test"`` (test_count) split."""
    if split not in ("all", "train", "test"):
        raise ValueError(f"split must be 'all', 'train' or 'test', got {split!r}")
    validate.positive_int(size, "size")
    if not 0 < test_count < 100:
        raise ValueError(f"test_count must lie in 1..99, got {test_count}")
    images = faces().tensors[0][:100]
    if size != images.shape[-1]:
        images = resize(images, size)
    if split == "all":
        return images
    order = torch.randperm(100, generator=torch.Generator().manual_seed(seed))
    return images[order[:test_count] if split == "test" else order[test_count:]]


# --------------------------------------------------------------------------- MNIST (online) and batches from a dataset
from pathlib import Path  # noqa: E402

from . import download  # noqa: E402

#: The dtype codes of the idx format (third byte of the magic number), with their big-endian NumPy dtypes.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an idx file (MNIST's format; gzipped when the name ends in .gz) into an array of its stored shape.

    The header is 2 zero bytes, a dtype code, the number of dimensions D, then D big-endian int32 sizes.
    """
    import gzip

    path = Path(path)
    raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise ValueError(f"{path} is not an idx file: bad magic number {raw[:4].hex() or '(empty)'}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: the idx header is truncated")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    expected = header + dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    if len(raw) != expected:
        raise ValueError(f"{path}: the header promises shape {shape} ({expected} bytes), the file has {len(raw)} bytes")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


download.register(
    download.Dataset(
        name="mnist_labels",  # the labels (60,000 digits 0-9, idx format, gzipped) of the "mnist" training images
        url="https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
        filename="train-labels-idx1-ubyte.gz",
        sha256=None,
        size=None,
        members=(),
        offline_default="utils.data.digits(size=28)",
        extract=False,
    )
)


def mnist(root: str | Path | None = None, size: int = 28) -> TensorDataset:
    """MNIST's 60,000 training digits, downloaded once through ``utils.data.download.fetch``, as
    ``(images (60000, 1, size, size) in [-1, 1], labels (60000,) int64)``.

    Offline it raises ``utils.data.download.DatasetUnavailableError``; use :func:`digits` instead.
    """
    validate.positive_int(size, "size")
    images = read_idx(download.fetch("mnist", root=root))
    labels = read_idx(download.fetch("mnist_labels", root=root))
    if images.ndim != 3 or labels.shape != (images.shape[0],):
        raise ValueError(f"MNIST files do not match: images {images.shape}, labels {labels.shape}")
    x = torch.from_numpy(images.astype(np.float32) / 255.0 * 2 - 1).unsqueeze(1)
    if size != x.shape[-1]:
        x = resize(x, size)
    return TensorDataset(x, torch.from_numpy(labels.astype(np.int64)))


def batch_sampler(dataset: TensorDataset, generator: torch.Generator | None = None, labels: bool = True) -> Callable:
    """A function ``n -> (images (n, ...), labels (n,))`` drawing n random rows of dataset = (images, labels), the
    form ``utils.train.train_gan`` expects; with ``labels=False`` it returns the images (n, ...) alone."""
    if not isinstance(dataset, TensorDataset):
        raise TypeError(f"dataset must be a TensorDataset, got {type(dataset).__name__}")
    tensors = dataset.tensors

    def sample(n: int):
        validate.positive_int(n, "n")
        idx = torch.randint(len(tensors[0]), (n,), generator=generator)
        return (tensors[0][idx], tensors[1][idx]) if labels else tensors[0][idx]

    return sample


# --------------------------------------------------------------------------- paired images (pix2pix)
from functools import cache  # noqa: E402


@cache
def _photo(name: str) -> Tensor:
    """A bundled photo (3, H, W) in [-1, 1], decoded once per process; callers must not modify it in place."""
    return bundled_image(name)


def _photo_crops(size: int, n: int, seed: int, photos: tuple[str, ...], oversample: int = 1) -> Tensor:
    """``n`` random square crops (n, 3, size * oversample, size * oversample) in [-1, 1] of the bundled photos:
    side 35-80 % of the photo's shorter side, random position, flipped left-right half of the time."""
    validate.positive_int(size, "size")
    validate.positive_int(n, "n")
    if not photos or any(p not in PHOTOS for p in photos):
        raise ValueError(f"photos must be a non-empty tuple of bundled photos from {PHOTOS}, got {photos!r}")
    rng = np.random.default_rng(seed)
    full = [_photo(p) for p in photos]
    out = torch.empty(n, 3, size * oversample, size * oversample)
    for i in range(n):
        img = full[int(rng.integers(len(full)))]
        h, w = img.shape[-2:]
        side = int(min(h, w) * rng.uniform(0.35, 0.8))
        top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = img[:, top : top + side, left : left + side]
        out[i] = resize(crop.flip(-1) if rng.random() < 0.5 else crop, size * oversample)
    return out


def edges_to_photo_pairs(
    size: int = 64, n: int = 256, seed: int = 0, photos: tuple[str, ...] = PHOTOS
) -> TensorDataset:
    """pix2pix's edges -> photo task on random crops of the bundled photos: ``(edges (n, 1, size, size), photos
    (n, 3, size, size))`` in [-1, 1]; edges are Canny edges drawn black (-1) on white (+1), like edges2shoes."""
    from skimage.feature import canny

    big = _photo_crops(size, n, seed, photos, oversample=2)  # Canny at 2x, then max-pooled: 1-px clean edges
    grey = ((0.299 * big[:, 0] + 0.587 * big[:, 1] + 0.114 * big[:, 2]) + 1) / 2  # (n, 2s, 2s) in [0, 1]
    edges = np.stack([canny(g, sigma=2.0) for g in grey.numpy()]).astype(np.float32)
    edges = F.max_pool2d(torch.from_numpy(edges).unsqueeze(1), 2)  # (n, 1, size, size), 1 on an edge
    return TensorDataset(1 - 2 * edges, resize(big, size))


def grey_to_colour_pairs(
    size: int = 64, n: int = 256, seed: int = 0, photos: tuple[str, ...] = PHOTOS
) -> TensorDataset:
    """Colourisation pairs from random crops of the bundled photos: ``(grey (n, 1, size, size), colour (n, 3, size,
    size))`` in [-1, 1], grey = 0.299 R + 0.587 G + 0.114 B."""
    colour = _photo_crops(size, n, seed, photos)
    grey = (0.299 * colour[:, 0] + 0.587 * colour[:, 1] + 0.114 * colour[:, 2]).unsqueeze(1)
    return TensorDataset(grey, colour)


#: Image files :func:`aligned_pairs` reads.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def aligned_pairs(folder: str | Path, size: int | None = 256, direction: str = "AtoB") -> TensorDataset:
    """The pix2pix "A|B side by side" format: every image in ``folder`` holds A (left half) and B (right half);
    returns ``(inputs (N, 3, size, size), targets (N, 3, size, size))`` in [-1, 1], sorted by file name.

    ``direction="AtoB"`` gives (A, B), ``"BtoA"`` gives (B, A); the facades set stores the photo as A and the label
    map as B, so label -> photo is "BtoA" (``utils.data.facades.decolourise`` turns its label images into class ids).
    ``size=None`` keeps the stored size (all images must then share it).
    """
    from PIL import Image

    if direction not in ("AtoB", "BtoA"):
        raise ValueError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
    if size is not None:
        validate.positive_int(size, "size")
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {folder}: expected a folder of A|B images such as facades/train/")
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(
            f"{folder} holds no {'/'.join(IMAGE_SUFFIXES)} images; expected A|B side-by-side images"
        )
    a_side, b_side = [], []
    for f in files:
        with Image.open(f) as im:
            x = to_tensor_image(np.asarray(im.convert("RGB")))
        w = x.shape[-1]
        if w % 2:
            raise ValueError(f"{f.name} is {w} px wide, an odd width: an A|B image holds two halves of equal width")
        a, b = x[..., : w // 2], x[..., w // 2 :]
        if size is not None:
            a, b = resize(a, size), resize(b, size)
        a_side.append(a)
        b_side.append(b)
    shapes = {tuple(t.shape) for t in a_side}
    if len(shapes) > 1:
        raise ValueError(f"the images in {folder} differ in size {sorted(shapes)}; pass size=... to resize them")
    a_all, b_all = torch.stack(a_side), torch.stack(b_side)
    return TensorDataset(a_all, b_all) if direction == "AtoB" else TensorDataset(b_all, a_all)


# --------------------------------------------------------------------------- typeset digits (CycleGAN's domain B)
#: Fonts shipped with matplotlib whose digits the typeset domain draws (file names in mpl-data/fonts/ttf).
TYPESET_FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "cmr10.ttf",
    "cmss10.ttf",
    "cmtt10.ttf",
    "cmb10.ttf",
)


def _font_path(name: str) -> Path:
    """The path of a font file shipped with matplotlib."""
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
    if not path.is_file():
        raise FileNotFoundError(f"matplotlib ships no font {name!r} (looked in {path.parent})")
    return path


def typeset_digits(
    size: int = 16,
    n: int = 2000,
    seed: int = 0,
    fonts: tuple[str, ...] = TYPESET_FONTS,
    slant: float = 0.25,
    jitter: float = 0.05,
    height: tuple[float, float] = (0.75, 0.95),
) -> TensorDataset:
    """Digits typeset in matplotlib's fonts, white on black like :func:`digits`: ``(images (n, 1, size, size) in
    [-1, 1], labels (n,))``, each class n/10 times; random font, height (a fraction of the side drawn from
    ``height``), stroke weight, slant (shear up to ``slant``) and position (up to ``jitter`` of the side off
    centre), deterministic by seed."""
    from PIL import Image, ImageDraw, ImageFont

    validate.positive_int(size, "size")
    validate.positive_int(n, "n")
    if not fonts:
        raise ValueError("fonts must name at least one font shipped with matplotlib")
    if not 0 < height[0] <= height[1] <= 1:
        raise ValueError(f"height must be a range (low, high) of fractions with 0 < low <= high <= 1, got {height}")
    paths = [_font_path(f) for f in fonts]
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10)
    side = 4 * size  # draw at 4x, then average down: anti-aliased strokes
    out = np.empty((n, side, side), dtype=np.float32)
    for i, label in enumerate(labels):
        font = ImageFont.truetype(str(paths[int(rng.integers(len(paths)))]), size=side)
        canvas = Image.new("L", (2 * side, 2 * side), 0)
        stroke = int(rng.integers(0, 2)) * side // 48  # half of them drawn a little heavier
        ImageDraw.Draw(canvas).text(
            (side // 2, side // 4), str(label), fill=255, font=font, stroke_width=stroke, stroke_fill=255
        )
        shear = rng.uniform(-slant, slant)  # x' = x + shear * (y - centre): italic-like slant
        canvas = canvas.transform(
            canvas.size, Image.AFFINE, (1, shear, -shear * side, 0, 1, 0), resample=Image.BILINEAR
        )
        left, top, right, bottom = canvas.getbbox()
        glyph = canvas.crop((left, top, right, bottom))
        glyph_height = rng.uniform(*height) * side
        scale = min(glyph_height / glyph.height, 0.95 * side / glyph.width)
        glyph = glyph.resize((max(1, round(glyph.width * scale)), max(1, round(glyph.height * scale))), Image.LANCZOS)
        dx, dy = rng.uniform(-jitter, jitter, size=2) * side
        img = Image.new("L", (side, side), 0)
        img.paste(glyph, (int(round((side - glyph.width) / 2 + dx)), int(round((side - glyph.height) / 2 + dy))))
        out[i] = np.asarray(img, dtype=np.float32) / 255.0
    images = F.avg_pool2d(torch.from_numpy(out).unsqueeze(1), 4) * 2 - 1
    return TensorDataset(images, torch.from_numpy(labels.astype(np.int64)))


# --------------------------------------------------------------------------- unpaired photos <-> paintings (CycleGAN)
#: Colours in the palette of one :func:`painterly` image.
PAINT_COLOURS = 16


def _blur(x: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of (N, C, H, W) with standard deviation ``sigma`` pixels, edges replicated."""
    r = max(1, int(math.ceil(2.5 * sigma)))
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    c = x.shape[1]
    x = F.pad(x, (r, r, r, r), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def _kuwahara(x: Tensor, r: int = 2, q: float = 8.0) -> Tensor:
    """Edge-preserving smoothing of (N, C, H, W): each pixel takes the mean of its four (r+1)x(r+1) corner windows,
    weighted by variance ** (-q/2), so the flattest window (the one not straddling an edge) wins."""
    n, c, h, w = x.shape
    lum = x.mean(1, keepdim=True)
    boxes = F.avg_pool2d(F.pad(torch.cat([x, lum, lum * lum], 1), (r, r, r, r), mode="replicate"), r + 1, stride=1)
    windows = [boxes[:, :, i : i + h, j : j + w] for i in (0, r) for j in (0, r)]
    means = torch.stack([b[:, :c] for b in windows])  # (4, N, C, H, W)
    var = torch.stack([(b[:, c + 1 :] - b[:, c : c + 1] ** 2).clamp_min(0) for b in windows])  # (4, N, 1, H, W)
    weights = (var + 1e-4) ** (-q / 2)
    return (weights * means).sum(0) / weights.sum(0)


def _smear(x: Tensor, direction: Tensor, length: float, steps: int) -> Tensor:
    """Average (N, C, H, W) along straight strokes: ``steps`` bilinear samples from -length to +length pixels along
    ``direction`` (N, 2, H, W) (unit x, y vectors), triangle-weighted."""
    n, c, h, w = x.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=x.dtype), torch.arange(w, dtype=x.dtype), indexing="ij")
    out, total = torch.zeros_like(x), 0.0
    for t in torch.linspace(-length, length, steps).tolist():
        weight = 1 - abs(t) / (length + 1)
        px, py = xs + t * direction[:, 0], ys + t * direction[:, 1]
        grid = torch.stack([(2 * px + 1) / w - 1, (2 * py + 1) / h - 1], dim=-1)  # (N, H, W, 2) in [-1, 1]
        out += weight * F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        total += weight
    return out / total


def _kmeans_palette(x: Tensor, k: int, generator: torch.Generator, iters: int = 8) -> Tensor:
    """Repaint each image (N, C, H, W) with its own ``k`` colours: k-means on 512 random pixels, then every pixel
    takes its nearest centre."""
    n, c, h, w = x.shape
    pixels = x.flatten(2).transpose(1, 2)  # (N, H*W, C)
    pick = torch.randint(h * w, (n, max(k, min(h * w, 512))), generator=generator)
    sample = torch.gather(pixels, 1, pick.unsqueeze(-1).expand(-1, -1, c))
    centres = sample[:, :k].clone()
    for _ in range(iters):
        onehot = F.one_hot(torch.cdist(sample, centres).argmin(-1), k).to(x.dtype)  # (N, S, k)
        counts = onehot.sum(1).unsqueeze(-1)  # (N, k, 1)
        centres = torch.where(counts > 0, onehot.transpose(1, 2) @ sample / counts.clamp_min(1), centres)
    nearest = torch.cdist(pixels, centres).argmin(-1)  # (N, H*W)
    out = torch.gather(centres, 1, nearest.unsqueeze(-1).expand(-1, -1, c))
    return out.transpose(1, 2).reshape(n, c, h, w)


def painterly(images: Tensor, seed: int = 0) -> Tensor:
    """Render photos (N, 3, H, W) in [-1, 1] as paintings (N, 3, H, W) in [-1, 1], deterministic by ``seed``.

    Kuwahara smoothing (flat patches, sharp edges), smears along the edges' direction (the structure tensor's; random
    but smooth where there is no edge), streaky brush texture, then a palette of PAINT_COLOURS colours per image.
    """
    validate.images(images, "images")
    n, c, h, w = images.shape
    if c != 3 or n == 0 or min(h, w) < 8:
        raise ValueError(f"images must have shape (N, 3, H, W) with N >= 1 and H, W >= 8, got {tuple(images.shape)}")
    g = torch.Generator().manual_seed(seed)
    x = _kuwahara((images.float() + 1) / 2)  # [0, 1]
    lum = x.mean(1, keepdim=True)
    gx = F.pad(lum, (1, 1, 0, 0), mode="replicate")
    gy = F.pad(lum, (0, 0, 1, 1), mode="replicate")
    gx, gy = (gx[..., 2:] - gx[..., :-2]) / 2, (gy[..., 2:, :] - gy[..., :-2, :]) / 2
    j = _blur(torch.cat([gx * gx, gx * gy, gy * gy], 1), 2.0)  # structure tensor (N, 3, H, W)
    along_edges = 0.5 * torch.atan2(2 * j[:, 1], j[:, 0] - j[:, 2]) + math.pi / 2  # (N, H, W)
    coherence = ((j[:, 0] - j[:, 2]) ** 2 + 4 * j[:, 1] ** 2).sqrt() / (j[:, 0] + j[:, 2] + 1e-6)
    wander = _blur(torch.randn(n, 1, h, w, generator=g), 3.0)[:, 0]
    wander = wander / wander.flatten(1).std(1).view(n, 1, 1).clamp_min(1e-6)
    free = torch.rand(n, 1, 1, generator=g) * math.pi + 0.6 * wander  # stroke angle where there is no edge
    angle = torch.where(coherence > 0.3, along_edges, free)
    direction = torch.stack([torch.cos(angle), torch.sin(angle)], 1)  # (N, 2, H, W)
    x = _smear(x, direction, length=max(1.0, h / 32), steps=5)
    streaks = _smear(torch.rand(n, 1, h, w, generator=g), direction, length=max(2.0, h / 12), steps=9)
    streaks = streaks - streaks.mean((2, 3), keepdim=True)
    streaks = streaks / streaks.flatten(1).std(1).view(n, 1, 1, 1).clamp_min(1e-6)
    x = _kmeans_palette((x + 0.02 * streaks).clamp(0, 1), PAINT_COLOURS, g)
    return x * 2 - 1


def photo_painting_domains(
    size: int = 64, n: int = 256, seed: int = 0, photos: tuple[str, ...] = PHOTOS
) -> tuple[Tensor, Tensor]:
    """CycleGAN's two unpaired domains from the bundled photos: ``(photos (n, 3, size, size), paintings (n, 3, size,
    size))`` in [-1, 1]; the paintings are :func:`painterly` renderings of other random crops (a second seed stream),
    so no painting is the painting of its photo."""
    domain_a = _photo_crops(size, n, seed, photos)
    other_seed = int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])
    domain_b = painterly(_photo_crops(size, n, other_seed, photos), seed=seed)
    return domain_a, domain_b


def _image_folder(folder: Path, size: int | None) -> Tensor:
    """The jpg/png images in ``folder``, sorted by file name, as (N, 3, size, size) in [-1, 1] (stored size if None)."""
    from PIL import Image

    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {folder}: a CycleGAN dataset holds trainA/, trainB/, testA/ and testB/")
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"{folder} holds no {'/'.join(IMAGE_SUFFIXES)} images")
    images = []
    for f in files:
        with Image.open(f) as im:
            x = to_tensor_image(np.asarray(im.convert("RGB")))
        images.append(resize(x, size) if size is not None else x)
    shapes = {tuple(t.shape) for t in images}
    if len(shapes) > 1:
        raise ValueError(f"the images in {folder} differ in size {sorted(shapes)}; pass size=... to resize them")
    return torch.stack(images)


def unpaired_folders(root: str | Path, size: int | None = 256, split: str = "train") -> tuple[Tensor, Tensor]:
    """A CycleGAN dataset folder (root/trainA, trainB, testA, testB, e.g. ``utils.data.download.fetch("monet2photo")``)
    as ``(A (N_A, 3, size, size), B (N_B, 3, size, size))`` in [-1, 1], each sorted by file name; ``size=None`` keeps
    the stored size (all images of a domain must then share it)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if size is not None:
        validate.positive_int(size, "size")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"no folder {root}: expected a CycleGAN dataset folder with trainA/, trainB/, testA/ and testB/"
        )
    return _image_folder(root / f"{split}A", size), _image_folder(root / f"{split}B", size)
