"""Procedural facades: CMP-style label maps (12 classes) and photo-like renderings of them, an offline CMP Facades.

pix2pix's facades set pairs photos of rectified building fronts with colour images of their label maps (CMP
Facades; online through ``utils.data.download.fetch("facades")`` and ``utils.data.aligned_pairs``). Offline,
:func:`facades_pairs` makes as many pairs as you like: :func:`label_map` lays out a building (floors, window
columns, doors, shops, balconies, ...), :func:`render` paints a photo of it (palette, textures, light, shadows,
reflections, noise) and :func:`perspective` tilts both by the same small homography. Every photo comes with its
true labels, so a segmentation net can score generated photos the way the pix2pix paper's FCN-score does.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import TensorDataset

from .. import validate

#: CMP Facades' 12 classes, in CMP's order (CMP's annotation files number them 1..12; here they are 0..11).
CLASSES = (
    "background",
    "facade",
    "window",
    "door",
    "cornice",
    "sill",
    "balcony",
    "blind",
    "deco",
    "molding",
    "pillar",
    "shop",
)
N_CLASSES = len(CLASSES)
(BACKGROUND, FACADE, WINDOW, DOOR, CORNICE, SILL, BALCONY, BLIND, DECO, MOLDING, PILLAR, SHOP) = range(N_CLASSES)

#: The label-map colour of each class (RGB, 0-255): MATLAB's ``jet(12)`` indexed by class (background dark blue,
#: facade blue, window light blue, ..., shop dark red), the colouring of CMP's label images that pix2pix's facades
#: pairs show on their B side. Checked by eye against published figures, not against the downloaded files: if
#: ``decolourise`` misreads the real set, these are the numbers to correct.
COLOURS = (
    (0, 0, 170),
    (0, 0, 255),
    (0, 85, 255),
    (0, 170, 255),
    (0, 255, 255),
    (85, 255, 170),
    (170, 255, 85),
    (255, 255, 0),
    (255, 170, 0),
    (255, 85, 0),
    (255, 0, 0),
    (170, 0, 0),
)

MIN_SIZE, MAX_SIZE = 32, 1024
SUPERSAMPLE = 2  # render at 2x and average down (up to 128 px): antialiased edges and fine texture

# Per-building palettes (RGB in [0, 1]).
WALLS = (
    (0.87, 0.82, 0.70),
    (0.82, 0.66, 0.45),
    (0.74, 0.48, 0.37),
    (0.68, 0.67, 0.64),
    (0.86, 0.74, 0.68),
    (0.91, 0.90, 0.86),
    (0.90, 0.80, 0.56),
    (0.64, 0.70, 0.66),
    (0.78, 0.72, 0.62),
    (0.58, 0.55, 0.52),
)
BRICKS = ((0.58, 0.30, 0.22), (0.66, 0.42, 0.30), (0.50, 0.30, 0.25), (0.72, 0.58, 0.44))
SHUTTERS = (
    (0.22, 0.36, 0.26),
    (0.45, 0.30, 0.18),
    (0.50, 0.55, 0.58),
    (0.86, 0.86, 0.82),
    (0.30, 0.40, 0.52),
    (0.55, 0.22, 0.18),
)
DOORS = ((0.32, 0.19, 0.10), (0.12, 0.12, 0.12), (0.15, 0.28, 0.20), (0.42, 0.20, 0.15), (0.20, 0.24, 0.32))
SIGNS = ((0.70, 0.15, 0.12), (0.12, 0.25, 0.50), (0.15, 0.15, 0.15), (0.85, 0.75, 0.30), (0.20, 0.42, 0.30))


def _check_size(size: object) -> int:
    """Check an image side length: an int in [MIN_SIZE, MAX_SIZE]."""
    if not isinstance(size, int) or isinstance(size, bool) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be an int between {MIN_SIZE} and {MAX_SIZE} (e.g. 64, 128, 256), got {size!r}")
    return size


def _rng(seed: int | np.random.Generator, stream: int) -> np.random.Generator:
    """A NumPy generator: ``seed`` itself when it is one, else a fresh one for (seed, stream)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int or a numpy Generator, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return np.random.default_rng([int(seed), stream])


def check_labels(labels: object, name: str = "labels") -> Tensor:
    """Check a label map: an integer tensor (H, W) or (N, H, W) with values in 0..11."""
    labels = validate.tensor(labels, name)
    if labels.dim() not in (2, 3) or labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(
            f"{name} must be an integer tensor (H, W) or (N, H, W), got {labels.dtype} {tuple(labels.shape)}"
        )
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= N_CLASSES):
        raise ValueError(
            f"{name} must hold class ids 0..{N_CLASSES - 1}, got values in [{int(labels.min())}, {int(labels.max())}]"
        )
    return labels


# --------------------------------------------------------------------------- label maps
def _box(lab: np.ndarray, y0: float, y1: float, x0: float, x1: float, cls: int) -> None:
    """Paint the rectangle rows [y0, y1) x columns [x0, x1) (rounded, at least 1 px each way) with class ``cls``."""
    h, w = lab.shape
    r0, c0 = int(round(y0)), int(round(x0))
    r1, c1 = max(r0 + 1, int(round(y1))), max(c0 + 1, int(round(x1)))
    lab[max(r0, 0) : min(r1, h), max(c0, 0) : min(c1, w)] = cls


def label_map(size: int = 64, seed: int | np.random.Generator = 0) -> Tensor:
    """A random building front as a label map (size, size) int64 of CMP class ids 0..11 (see CLASSES)."""
    size = _check_size(size)
    rng = _rng(seed, 0)
    S = float(size)
    px = max(1.0, S / 64)  # one "thin element" in pixels: 1 px at 64, 4 px at 256
    lab = np.full((size, size), FACADE, dtype=np.int64)

    # sky above the roofline, sometimes an attic storey or a gap to the neighbour
    roof = rng.uniform(0.03, 0.15) * S
    _box(lab, 0, roof, 0, S, BACKGROUND)
    if rng.random() < 0.3:
        a, b = sorted(rng.uniform(0.15, 0.85, 2) * S)
        if b - a > 0.2 * S:
            _box(lab, max(0.0, roof - rng.uniform(0.04, 0.09) * S), roof, a, b, FACADE)
    if rng.random() < 0.2:
        gap = rng.uniform(0.02, 0.07) * S
        _box(lab, 0, S, *((0, gap) if rng.random() < 0.5 else (S - gap, S)), BACKGROUND)
    top_h = max(px, rng.uniform(0.02, 0.04) * S)
    _box(lab, roof, roof + top_h, 0, S, CORNICE)

    ground_h = rng.uniform(0.17, 0.27) * S
    ground_top = S - ground_h
    body_top = roof + top_h
    n_floors = int(rng.integers(2, 6))
    while n_floors > 2 and (ground_top - body_top) / n_floors < 0.11 * S:
        n_floors -= 1
    floor_h = (ground_top - body_top) / n_floors
    n_cols = int(rng.integers(2, 7))
    margin = rng.uniform(0.02, 0.1) * S
    cell = (S - 2 * margin) / n_cols

    shutters = rng.random() < 0.35
    frames = rng.random() < 0.4
    pediments = rng.random() < 0.3
    spandrel_deco = rng.random() < 0.2
    pilasters = rng.random() < 0.3
    string_courses = rng.random() < 0.6
    balcony_style = rng.choice(["none", "band", "window"], p=[0.3, 0.3, 0.4])
    balcony_floors = set(np.flatnonzero(rng.random(n_floors) < 0.45).tolist())
    if balcony_style != "none" and not balcony_floors:
        balcony_floors = {int(rng.integers(n_floors))}
    win_w = cell * (rng.uniform(0.28, 0.4) if shutters else rng.uniform(0.35, 0.6))
    win_h = floor_h * rng.uniform(0.45, 0.65)
    win_top = floor_h * rng.uniform(0.12, 0.25)
    sill_h = max(px, 0.05 * floor_h)
    ext = max(px, 0.08 * win_w)

    if pilasters:
        pw = max(px, min(0.3 * (cell - win_w), rng.uniform(0.02, 0.04) * S))
        step = int(rng.integers(1, 3))
        for k in range(0, n_cols + 1, step):
            x = margin + k * cell
            _box(lab, body_top, ground_top, x - pw / 2, x + pw / 2, PILLAR)
    for f in range(n_floors):
        y = body_top + f * floor_h
        if f > 0:
            band = max(px, 0.04 * floor_h)
            if string_courses:
                _box(lab, y - band / 2, y + band / 2, 0, S, MOLDING)
            elif rng.random() < 0.3:
                _box(lab, y - band / 2, y + band / 2, 0, S, CORNICE)
        balcony = balcony_style != "none" and f in balcony_floors
        wt, wh = y + win_top, win_h
        if balcony:
            wh = floor_h - win_top - sill_h  # french windows down to the balcony slab
        for c in range(n_cols):
            x = margin + (c + 0.5) * cell - win_w / 2
            if frames:
                fr = max(px, 0.1 * win_w)
                _box(lab, wt - fr, wt + wh + (0 if balcony else fr), x - fr, x + win_w + fr, MOLDING)
            if pediments:
                _box(
                    lab,
                    wt - max(px, 0.12 * floor_h) - (fr if frames else 0),
                    wt - (fr if frames else 0),
                    x - ext,
                    x + win_w + ext,
                    DECO,
                )
            if spandrel_deco and not balcony and f < n_floors - 1:
                _box(
                    lab,
                    wt + wh + 2.5 * sill_h,
                    min(y + floor_h - px, wt + wh + 2.5 * sill_h + 0.12 * floor_h),
                    x + 0.15 * win_w,
                    x + 0.85 * win_w,
                    DECO,
                )
            _box(lab, wt, wt + wh, x, x + win_w, WINDOW)
            if shutters:
                sw = win_w / 2
                _box(lab, wt, wt + wh, x - sw, x, BLIND)
                _box(lab, wt, wt + wh, x + win_w, x + win_w + sw, BLIND)
            if balcony and balcony_style == "window":
                rail = 0.35 * wh
                _box(lab, wt + wh - rail, wt + wh + sill_h, x - 2 * ext, x + win_w + 2 * ext, BALCONY)
            elif not balcony:
                _box(lab, wt + wh, wt + wh + sill_h, x - ext, x + win_w + ext, SILL)
        if balcony and balcony_style == "band":
            rail = 0.3 * wh
            _box(lab, wt + wh - rail, wt + wh + sill_h, margin * 0.5, S - margin * 0.5, BALCONY)

    # ground floor: a cornice or molding above it, then a door and shops or windows
    band = max(px, 0.025 * S)
    _box(lab, ground_top - band / 2, ground_top + band / 2, 0, S, CORNICE if rng.random() < 0.6 else MOLDING)
    shops = rng.random() < 0.55
    door_cols = {int(rng.integers(n_cols))}
    if n_cols >= 4 and rng.random() < 0.3:
        door_cols.add(int(rng.integers(n_cols)))
    plinth = max(px, rng.uniform(0.0, 0.03) * S)
    for c in range(n_cols):
        centre = margin + (c + 0.5) * cell
        if c in door_cols:
            dw = min(cell * 0.8, max(2 * px, cell * rng.uniform(0.4, 0.6)))
            dh = ground_h * rng.uniform(0.6, 0.8)
            if frames:
                fr = max(px, 0.1 * dw)
                _box(lab, S - dh - fr, S, centre - dw / 2 - fr, centre + dw / 2 + fr, MOLDING)
            _box(lab, S - dh, S, centre - dw / 2, centre + dw / 2, DOOR)
        elif shops and rng.random() < 0.85:
            sw = cell * rng.uniform(0.65, 0.9)
            sh = ground_h * rng.uniform(0.55, 0.75)
            _box(lab, S - plinth - sh, S - plinth, centre - sw / 2, centre + sw / 2, SHOP)
        else:
            gh = ground_h * rng.uniform(0.35, 0.5)
            gt = ground_top + band + ground_h * 0.15
            _box(lab, gt, gt + gh, centre - win_w / 2, centre + win_w / 2, WINDOW)
            _box(lab, gt + gh, gt + gh + sill_h, centre - win_w / 2 - ext, centre + win_w / 2 + ext, SILL)
    return torch.from_numpy(lab)


# --------------------------------------------------------------------------- rendering helpers
@cache
def _texture(name: str) -> np.ndarray:
    """A scikit-image texture (512, 512) float32, normalised to mean 0 and std 1 (loaded once per process)."""
    import skimage.data

    t = getattr(skimage.data, name)().astype(np.float32)
    return (t - t.mean()) / t.std()


def _crop(rng: np.random.Generator, name: str, r: int, scale: float) -> np.ndarray:
    """A random (r, r) window of a texture, sampled every ``scale`` texture pixels (nearest)."""
    t = _texture(name)
    span = min(t.shape[0] - 1, int(r * scale))
    y0, x0 = rng.integers(0, t.shape[0] - span, 2)
    idx = (np.arange(r) * (span / r)).astype(np.int64)
    return t[y0 + idx[:, None], x0 + idx[None, :]]


def _smooth(rng: np.random.Generator, r: int, cells: tuple[int, int]) -> np.ndarray:
    """Smooth noise (r, r), std about 1: a (cells) grid of normals upsampled bilinearly."""
    g = torch.from_numpy(rng.standard_normal(cells).astype(np.float32))[None, None]
    return F.interpolate(g, size=(r, r), mode="bicubic", align_corners=False)[0, 0].numpy()


def _jitter(rng: np.random.Generator, palette: tuple, amount: float = 0.04) -> np.ndarray:
    """A random palette colour (3,), each channel moved by up to ``amount``."""
    c = np.array(palette[int(rng.integers(len(palette)))], dtype=np.float32)
    return np.clip(c + rng.uniform(-amount, amount, 3).astype(np.float32), 0, 1)


def _instances(lab: np.ndarray, classes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of the given classes: ids (H, W) (0 elsewhere) and boxes (K+1, 4) y0, y1, x0, x1."""
    from scipy import ndimage

    ids = np.zeros(lab.shape, dtype=np.int64)
    boxes = [(0, 1, 0, 1)]
    for cls in classes:
        comp, n = ndimage.label(lab == cls)
        if n == 0:
            continue
        ids[comp > 0] = comp[comp > 0] + len(boxes) - 1
        boxes += [(s[0].start, s[0].stop, s[1].start, s[1].stop) for s in ndimage.find_objects(comp)]
    return ids, np.array(boxes, dtype=np.float32)


def _shift(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``mask`` moved down by dy and right by dx pixels (dy, dx >= 0), zeros shifted in."""
    out = np.zeros_like(mask)
    h, w = mask.shape
    out[dy:, dx:] = mask[: h - dy, : w - dx]
    return out


# --------------------------------------------------------------------------- rendering
def render(labels: Tensor, seed: int | np.random.Generator = 0) -> Tensor:
    """A photo-like image (3, H, W) in [-1, 1] of a label map (H, W); the same seed gives the same photo."""
    lab = check_labels(labels).detach().cpu().numpy().astype(np.int64)
    if lab.ndim != 2:
        raise ValueError(f"render takes one label map (H, W), got shape {tuple(lab.shape)}; loop over a batch")
    size = lab.shape[0]
    if lab.shape[0] != lab.shape[1] or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"labels must be square, {MIN_SIZE}..{MAX_SIZE} px, got shape {tuple(lab.shape)}")
    rng = _rng(seed, 1)
    s = SUPERSAMPLE if size <= 128 else 1  # large images resolve the detail without it
    r = size * s
    L = np.repeat(np.repeat(lab, s, 0), s, 1)  # (r, r) labels at render resolution
    ids, boxes = _instances(lab, (WINDOW, DOOR, SHOP, BLIND, BALCONY, CORNICE, SILL, PILLAR, DECO, MOLDING))
    ids = np.repeat(np.repeat(ids, s, 0), s, 1).ravel()
    per = rng.random((len(boxes), 4)).astype(np.float32)  # random numbers per element (window, door, ...)
    order = np.argsort(L.ravel(), kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(L.ravel(), minlength=N_CLASSES))])
    unit = size / 64  # label pixels per pixel of a 64 x 64 facade
    grain = _crop(rng, "gravel", r, rng.uniform(3.0, 4.0) / s).ravel()  # fine plaster grain
    img = np.zeros((r * r, 3), dtype=np.float32)

    def at(cls: int) -> tuple[np.ndarray, ...]:
        """The pixels of one class: flat index, y, x (label pixels), u, v (0..1 inside their element), element
        height and width, the element's random numbers (K, 4) and the plaster grain; all but the index (K, 1)."""
        idx = order[bounds[cls] : bounds[cls + 1]]
        y = ((idx // r + 0.5) / s).astype(np.float32)[:, None]
        x = ((idx % r + 0.5) / s).astype(np.float32)[:, None]
        inst = ids[idx]
        bb = boxes[inst]
        bh, bw = bb[:, 1:2] - bb[:, 0:1], bb[:, 3:4] - bb[:, 2:3]
        return idx, y, x, (x - bb[:, 2:3]) / bw, (y - bb[:, 0:1]) / bh, bh, bw, per[inst], grain[idx][:, None]

    def f32(*values: float) -> np.ndarray:
        """A colour (3,) float32."""
        return np.array(values, dtype=np.float32)

    # sky: a vertical gradient with soft clouds
    zenith = f32(0.35, 0.52, 0.80) + rng.uniform(-0.06, 0.06, 3).astype(np.float32)
    horizon = f32(0.78, 0.84, 0.90) + rng.uniform(-0.05, 0.05, 3).astype(np.float32)
    overcast = rng.random() < 0.3
    if overcast:
        zenith = horizon = f32(0.80, 0.82, 0.85) + np.float32(rng.uniform(-0.08, 0.05))
    clouds = np.clip(_smooth(rng, r, (4, 8)) * 0.5 + rng.uniform(-0.5, 0.2), 0, 1).ravel()
    idx, y, x, *_ = at(BACKGROUND)
    t = np.clip(y / (0.4 * size), 0, 1)
    c = clouds[idx][:, None] * 0.6
    sky = (zenith * (1 - t) + horizon * t) * (1 - c) + 0.95 * c
    beside = np.clip((y / size - 0.17) / 0.08, 0, 1)  # below the roofline: a shaded neighbouring building
    img[idx] = sky * (1 - beside) + f32(0.36, 0.34, 0.33) * (1 + 0.05 * grain[idx][:, None]) * beside

    # wall: plaster (grain, stains, streaks) or bricks
    stains = _smooth(rng, r, (6, 6)).ravel()
    streaks = np.abs(_smooth(rng, r, (3, 24))).ravel()
    bricks = rng.random() < 0.25
    wall_c = _jitter(rng, BRICKS) if bricks else _jitter(rng, WALLS) * np.float32(rng.uniform(0.88, 1.04))
    ch = max(2.0, size * rng.uniform(0.012, 0.02) * s)  # brick course height in render pixels
    bl = ch * rng.uniform(2.0, 2.6)  # brick length

    def wall_at(idx: np.ndarray) -> np.ndarray:
        """The bare wall's colour (K, 3) at flat pixel indices ``idx``."""
        g = grain[idx][:, None]
        if not bricks:
            return wall_c * (1 + 0.03 * g + 0.04 * stains[idx][:, None] - 0.04 * streaks[idx][:, None])
        yy, xx = (idx // r).astype(np.float32), (idx % r).astype(np.float32)
        row = np.floor(yy / ch)
        xo = xx + (row % 2) * bl / 2
        col = np.floor(xo / bl)
        hue = np.sin(row * 12.9898 + col * 78.233) * 43758.5453
        vary = ((hue - np.floor(hue) - 0.5) * 0.25)[:, None]
        mortar = (((yy / ch - row) < 0.2) | ((xo / bl - col) < 0.08))[:, None]
        return np.where(mortar, f32(0.72, 0.70, 0.66) * (1 + 0.04 * g), wall_c * (1 + vary + 0.04 * g))

    trim = (wall_c * 0.45 + 0.5) if rng.random() < 0.6 else wall_c * rng.uniform(0.75, 0.9)
    trim = np.clip(trim + rng.uniform(-0.03, 0.03, 3), 0, 1).astype(np.float32)  # stone: cornices, sills, ...
    plinth = rng.uniform(0.0, 0.05)  # a stone base along the street, as a fraction of the height
    idx, y, *_ = at(FACADE)
    grime = 1 - 0.12 * np.clip((y / size - 0.5) * 2, 0, 1) ** 2  # walls get dirtier towards the street
    img[idx] = np.where(y > size * (1 - plinth), trim * 0.7 * (1 + 0.05 * grain[idx][:, None]), wall_at(idx) * grime)

    # windows: dark glass reflecting the sky, frames, mullions, a recess shadow, some curtains
    glass = f32(0.09, 0.11, 0.14) + np.float32(rng.uniform(-0.03, 0.03))
    reflect = f32(0.55, 0.65, 0.75) if not overcast else f32(0.70, 0.72, 0.75)
    frame_c = f32(0.92, 0.91, 0.88) if rng.random() < 0.5 else f32(0.35, 0.25, 0.18)
    idx, y, x, u, v, bh, bw, p, g = at(WINDOW)
    k = (p[:, 0:1] * 0.4 + 0.08) * (1 - 0.6 * v)
    k = k + 0.2 * ((((u * 0.6 + v) * 1.5 + p[:, 1:2]) % 1) < 0.15)  # a diagonal glint
    win = glass * (1 - k) + reflect * k
    curtain = (p[:, 2:3] < 0.35) & ((u < 0.3) | (u > 0.7))
    win = np.where(curtain, f32(0.75, 0.72, 0.64) * (0.4 + 0.3 * p[:, 3:4]), win)
    fu, fv = np.minimum(0.12, 0.45 * unit / np.maximum(bw, 1)), np.minimum(0.1, 0.45 * unit / np.maximum(bh, 1))
    bars = (u < fu) | (u > 1 - fu) | (v < fv) | (v > 1 - fv)
    bars |= (np.abs(u - 0.5) < fu / 2) & (bw > 4 * unit)
    bars |= (np.abs(v - 0.3) < fv / 2) & (bh > 6 * unit)
    win = np.where(bars, frame_c, win)
    img[idx] = win * (1 - 0.45 * ((v < 0.08) | (u < 0.05)))  # the recess shades the top and one side

    # doors: painted wood with panels, a glazed top, a dark recess
    door_c = _jitter(rng, DOORS)
    idx, y, x, u, v, bh, bw, p, g = at(DOOR)
    panel = (np.abs(u - 0.5) > 0.06) & (u > 0.15) & (u < 0.85) & (v > 0.3) & (v < 0.92) & (np.abs(v - 0.6) > 0.04)
    door = door_c * (1 + 0.08 * g) * (0.8 + 0.25 * panel)
    door = np.where((v < 0.22) & (v > 0.05) & (u > 0.1) & (u < 0.9), glass + 0.2 * reflect, door)
    img[idx] = door * (1 - 0.5 * ((v < 0.04) | (u < 0.06)))

    # shops: a sign band, large glass with goods behind it, a dark metal frame
    sign_c = _jitter(rng, SIGNS, 0.06)
    goods = _smooth(rng, r, (8, 16)).ravel()
    tint = rng.uniform(0.5, 1.5, 3).astype(np.float32)
    idx, y, x, u, v, bh, bw, p, g = at(SHOP)
    inside = np.clip(f32(0.35, 0.30, 0.25) + 0.12 * goods[idx][:, None] * tint, 0, 1)
    shop = inside * (1 - 0.4 * v) + 0.25 * reflect * (1 - v)
    shop = np.where(v < 0.2, sign_c * (1 + 0.05 * g), shop)
    edge = (u < 0.04) | (u > 0.96) | (np.abs(v - 0.2) < 0.03) | (v > 0.95)
    img[idx] = np.where(edge, f32(0.15, 0.15, 0.16), shop)

    # shutters: painted slats with a dark centre line
    shut_c = _jitter(rng, SHUTTERS)
    idx, y, x, u, v, bh, bw, p, g = at(BLIND)
    slats = (y * s / max(2.0, 0.9 * unit * s)) % 1
    img[idx] = shut_c * (0.8 + 0.3 * slats) * (1 - 0.4 * (u > 0.9))

    # balconies: iron railings (see-through to a shaded wall) or stone balustrades, on a slab
    iron = rng.random() < 0.6
    period = max(3.0, 1.2 * unit * s)
    rail_c = f32(0.12, 0.12, 0.13) if iron else trim
    idx, y, x, u, v, bh, bw, p, g = at(BALCONY)
    post = ((x * s / period) % 1) < (0.35 if iron else 0.55)
    bal = np.where(post | (v < 0.15), rail_c * (0.9 + 0.1 * g), wall_at(idx) * 0.45)
    img[idx] = np.where(v > 0.8, trim * 0.85 * (1 + 0.03 * g), bal)

    # stone trim: cornices with a lit top and a shaded underside, sills, moldings, pilasters, ornaments
    idx, y, x, u, v, bh, bw, p, g = at(CORNICE)
    img[idx] = trim * (1 + 0.03 * g) * np.where(v < 0.35, 1.08, np.where(v < 0.7, 0.9, 0.68))
    idx, y, x, u, v, bh, bw, p, g = at(SILL)
    img[idx] = trim * (1 + 0.03 * g) * np.where(v < 0.5, 1.05, 0.78)
    idx, y, x, u, v, bh, bw, p, g = at(MOLDING)
    img[idx] = trim * (1 + 0.03 * g) * (0.95 + 0.08 * (v < 0.5))
    idx, y, x, u, v, bh, bw, p, g = at(PILLAR)
    img[idx] = trim * (1 + 0.03 * g) * (0.8 + 0.3 * np.sin(np.pi * np.clip(u, 0, 1)) - 0.1 * u)
    idx, y, x, u, v, bh, bw, p, g = at(DECO)
    relief = np.sin(x * s / max(2.0, 1.5 * unit * s) * np.pi) * np.sin(np.pi * np.clip(v, 0, 1))
    img[idx] = trim * (1 + 0.03 * g) * (0.85 + 0.2 * relief)

    # cast shadows: protruding elements shade what lies below them; the sun is high and to one side
    img = img.reshape(r, r, 3)
    protrudes = np.isin(L, (CORNICE, SILL, BALCONY, DECO, PILLAR, MOLDING))
    receives = np.isin(L, (FACADE, WINDOW, BLIND, DOOR, SHOP))
    shade = np.zeros((r, r), dtype=bool)
    depth = max(1, int(round(rng.uniform(0.8, 2.0) * unit * s)))
    side = int(rng.integers(0, 2))
    for d in range(1, depth + 1):
        shade |= _shift(protrudes, d, (d * side) // 2)
    img *= (1 - np.float32(rng.uniform(0.25, 0.45)) * (shade & receives))[..., None]

    # light across the facade, white balance, exposure, a little haze, the 2x average, then sensor noise
    gx, gy = rng.uniform(-0.25, 0.25, 2)
    ys = ((np.arange(r) + 0.5) / r - 0.5).astype(np.float32)
    light = 1 + gx * ys[None, :] + gy * ys[:, None] - 0.25 * (ys[None, :] ** 2 + ys[:, None] ** 2)
    gain = (rng.uniform(0.93, 1.07, 3) * rng.uniform(0.9, 1.1)).astype(np.float32)
    img = img * light[..., None] * gain * 0.94 + 0.06 * f32(0.8, 0.82, 0.85)
    out = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32))[None]
    out = F.avg_pool2d(out, s)[0]  # back to (3, size, size)
    noise = torch.from_numpy(rng.standard_normal((3, size, size), dtype=np.float32))
    out = out + float(rng.uniform(0.008, 0.025)) * noise
    return (out.clamp(0, 1) * 2 - 1).contiguous()


# --------------------------------------------------------------------------- label images, perspective, pairs
def colourise(labels: Tensor) -> Tensor:
    """The label-map image of labels (H, W) or (N, H, W): (3, H, W) or (N, 3, H, W) in [-1, 1], colours COLOURS."""
    labels = check_labels(labels)
    table = torch.tensor(COLOURS, dtype=torch.float32, device=labels.device) / 255 * 2 - 1
    out = table[labels.long()]  # (..., H, W, 3)
    return out.movedim(-1, -3).contiguous()


def decolourise(images: Tensor) -> Tensor:
    """Class ids (N, H, W) (or (H, W)) of label-map images (N, 3, H, W) (or (3, H, W)) in [-1, 1]: nearest colour."""
    images = validate.tensor(images, "images")
    if images.dim() not in (3, 4) or images.shape[-3] != 3:
        raise ValueError(f"images must have shape (3, H, W) or (N, 3, H, W), got {tuple(images.shape)}")
    if images.dim() == 4 and len(images) > 32:  # in chunks: the distances take 12 floats per pixel
        return torch.cat([decolourise(chunk) for chunk in images.split(32)])
    table = torch.tensor(COLOURS, dtype=torch.float32, device=images.device) / 255 * 2 - 1  # (12, 3)
    pixels = images.movedim(-3, -1).float()  # (..., H, W, 3)
    d = (table**2).sum(1) - 2 * pixels @ table.T  # (..., H, W, 12): squared distance less |pixel|^2
    return d.argmin(-1)


def perspective(
    labels: Tensor, photos: Tensor, seed: int | np.random.Generator = 0, strength: float = 1.0
) -> tuple[Tensor, Tensor]:
    """Tilt label maps (N, H, W) and photos (N, 3, H, W) by the same small random homography per pair (labels by
    nearest neighbour, photos bilinearly); returns the warped ``(labels, photos)``."""
    labels = check_labels(labels)
    photos = validate.images(photos, "photos")
    if labels.dim() != 3 or photos.shape[0] != labels.shape[0] or photos.shape[-2:] != labels.shape[-2:]:
        raise ValueError(
            f"labels (N, H, W) and photos (N, 3, H, W) must match, got {tuple(labels.shape)} and {tuple(photos.shape)}"
        )
    rng = _rng(seed, 2)
    n, h, w = labels.shape
    p = torch.from_numpy(rng.uniform(-1, 1, (n, 8, 1, 1)).astype(np.float32)) * strength  # 8 numbers per pair
    zoom = 1 / 1.06
    a, e = zoom * (1 + 0.03 * p[:, 0]), zoom * (1 + 0.03 * p[:, 1])  # scale
    b, d = 0.025 * p[:, 2], 0.025 * p[:, 3]  # shear
    c, f = 0.02 * p[:, 4], 0.02 * p[:, 5]  # shift
    g, k = 0.04 * p[:, 6], 0.04 * p[:, 7]  # perspective
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w * 2 - 1
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    den = g * xx + k * yy + 1  # (N, H, W): where output pixel (x, y) samples the input
    gx = (a * xx + b * yy + c) / den
    gy = (d * xx + e * yy + f) / den
    grid = torch.stack([gx, gy], dim=-1)  # (N, H, W, 2)
    photos = F.grid_sample(photos.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
    warped = F.grid_sample(
        labels.float().unsqueeze(1), grid, mode="nearest", padding_mode="border", align_corners=False
    )
    return warped[:, 0].round().long(), photos.clamp(-1, 1)


def facades_pairs(n: int, size: int = 64, seed: int = 0, jitter: float = 1.0) -> TensorDataset:
    """``n`` procedural facades as a TensorDataset of (label images (n, 3, size, size) in [-1, 1],
    photos (n, 3, size, size) in [-1, 1], label ids (n, size, size) int64); pair i depends only on (seed, i).

    ``jitter`` scales the perspective tilt shared by each label map and its photo (0: none).
    """
    validate.positive_int(n, "n")
    size = _check_size(size)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    _rng(seed, 0)  # non-negative
    if not isinstance(jitter, (int, float)) or isinstance(jitter, bool) or not 0 <= jitter <= 3:
        raise ValueError(f"jitter must be a number in [0, 3] (1: the default tilt, 0: none), got {jitter!r}")
    labels = torch.empty(n, size, size, dtype=torch.int64)
    photos = torch.empty(n, 3, size, size)
    for i in range(n):
        labels[i] = label_map(size, np.random.default_rng([seed, i, 0]))
        photos[i] = render(labels[i], np.random.default_rng([seed, i, 1]))
    labels, photos = _perspective_each(labels, photos, seed, jitter)
    return TensorDataset(colourise(labels), photos, labels)


def _perspective_each(labels: Tensor, photos: Tensor, seed: int, strength: float) -> tuple[Tensor, Tensor]:
    """:func:`perspective` with the homography of pair i drawn from (seed, i), so a pair does not depend on n."""
    if strength == 0:
        return labels, photos
    out_l, out_p = [], []
    for i in range(len(labels)):
        lab, pho = perspective(labels[i : i + 1], photos[i : i + 1], np.random.default_rng([seed, i, 2]), strength)
        out_l.append(lab)
        out_p.append(pho)
    return torch.cat(out_l), torch.cat(out_p)
