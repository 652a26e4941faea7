"""Video translation (label-map videos -> frames) and its temporal flicker, as in vid2vid (Wang et al., 2018).

:func:`moving_scene` draws a procedural video: a static camera on a static background (sky, wall, grass, road;
textured from the bundled textures with a random crop per video) with a ball and a box moving across it at constant
velocity, bouncing off the borders. A per-frame pix2pix model translates each label map alone; a temporal model also
sees the previous output frame (:func:`previous_frame_sampler` for training, :func:`translate_video` feeds its own
outputs back). :func:`flicker` measures how much the frames change where the labels do not.

Label videos are (T, H, W) int64 class ids; frames are (T, 3, H, W) in [-1, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import animation
from torch import Tensor, nn

from . import data, pix2pix, validate

#: The scene's classes: four static background regions and two moving objects.
VIDEO_CLASSES = ("sky", "wall", "grass", "road", "ball", "box")
N_VIDEO_CLASSES = len(VIDEO_CLASSES)
SKY, WALL, GRASS, ROAD, BALL, BOX = range(N_VIDEO_CLASSES)

#: The colour of each class in pictures of label maps (RGB, 0-255).
VIDEO_COLOURS = ((110, 160, 255), (200, 60, 40), (40, 170, 60), (120, 120, 120), (255, 220, 0), (160, 40, 200))

# Base colours (RGB in [-1, 1]) of the textured regions and the texture each one uses.
_REGIONS = {
    WALL: ((0.35, -0.25, -0.45), "brick", 1.4),
    GRASS: ((-0.45, 0.15, -0.60), "grass", 0.6),
    ROAD: ((-0.20, -0.20, -0.15), "gravel", 0.6),
}


@cache
def _scene_texture(name: str) -> Tensor:
    """A bundled texture (1, 256, 256) in [-1, 1], zero-mean, halved in side so that it stays readable at 64 px."""
    x = data.resize(data.bundled_image(name), 256)
    return x - x.mean()


def moving_scene(n_frames: int = 16, size: int = 64, seed: int = 0) -> tuple[Tensor, Tensor]:
    """A procedural video with a static camera -> (labels (T, H, W) int64 in 0..5, frames (T, 3, H, W) in [-1, 1]).

    Static regions (sky, wall, grass, road) keep their pixels from frame to frame; their texture is a random crop of
    a bundled texture, so the label map alone does not say which one. A ball and a box move at constant velocity and
    bounce off the borders; their shading moves with them. T = ``n_frames``, H = W = ``size``.
    """
    validate.positive_int(n_frames, "n_frames")
    if not isinstance(size, int) or isinstance(size, bool) or not 16 <= size <= 256:
        raise ValueError(f"size must be an int between 16 and 256 (e.g. 32 or 64), got {size!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    S, T = size, n_frames
    ys, xs = torch.meshgrid(torch.arange(S, dtype=torch.float32), torch.arange(S, dtype=torch.float32), indexing="ij")

    # The static background: sky above the horizon, a wall (one building) and grass in the middle, road at the bottom.
    horizon = int(rng.uniform(0.22, 0.4) * S)
    road_top = int(rng.uniform(0.62, 0.75) * S)
    wall_top = int(rng.uniform(0.08, horizon / S - 0.04) * S) if horizon > 0.15 * S else horizon
    wall_x0 = int(rng.uniform(0.0, 0.45) * S)
    wall_x1 = min(S, wall_x0 + int(rng.uniform(0.3, 0.55) * S))
    background = torch.full((S, S), GRASS, dtype=torch.int64)
    background[:horizon] = SKY
    background[wall_top:road_top, wall_x0:wall_x1] = WALL
    background[road_top:] = ROAD
    image = torch.zeros(3, S, S)
    top = torch.tensor(rng.uniform(-0.3, 0.1, 3), dtype=torch.float32)
    bottom = torch.tensor(rng.uniform(0.3, 0.8, 3), dtype=torch.float32)
    top[2], bottom[2] = top[2] + 0.5, 0.9  # blue at the top, lighter near the horizon
    sky = top.view(3, 1, 1) + (bottom - top).view(3, 1, 1) * (ys / S).unsqueeze(0)
    image = torch.where(background == SKY, sky, image)
    for cls, (colour, name, contrast) in _REGIONS.items():
        tex = _scene_texture(name)
        r, c = (int(v) for v in rng.integers(0, tex.shape[-1] - S, 2))  # a random crop per video
        colour = torch.tensor(colour) + torch.tensor(rng.uniform(-0.12, 0.12, 3), dtype=torch.float32)
        region = colour.view(3, 1, 1) + contrast * tex[:, r : r + S, c : c + S]
        image = torch.where(background == cls, region, image)

    # The moving objects: a ball anywhere, a box on the lower half; constant velocity, bouncing off the borders.
    radius = rng.uniform(0.09, 0.14) * S
    ball_p, ball_v = rng.uniform(radius, S - radius, 2), rng.uniform(0.025, 0.05, 2) * S * rng.choice([-1, 1], 2)
    ball_colour = torch.tensor(rng.uniform(-0.2, 0.9, 3), dtype=torch.float32)
    box_wh = rng.uniform(0.18, 0.3, 2) * S
    box_p = np.array([rng.uniform(0.5 * S, S - box_wh[1]), rng.uniform(0, S - box_wh[0])])  # (row, column) top left
    box_v = np.array([0.0, rng.uniform(0.02, 0.045) * S * rng.choice([-1, 1])])
    box_colour = torch.tensor(rng.uniform(-0.6, 0.6, 3), dtype=torch.float32)

    labels, frames = [], []
    for _ in range(T):
        lab, img = background.clone(), image.clone()
        r0, c0 = (int(round(v)) for v in box_p)
        r1, c1 = r0 + int(box_wh[1]), c0 + int(box_wh[0])
        inside = (ys >= r0) & (ys < r1) & (xs >= c0) & (xs < c1)
        edge = inside & ~((ys >= r0 + 1) & (ys < r1 - 1) & (xs >= c0 + 1) & (xs < c1 - 1))
        lab[inside] = BOX
        img = torch.where(inside, box_colour.view(3, 1, 1), img)
        img = torch.where(edge, box_colour.view(3, 1, 1) - 0.4, img)
        dist = ((ys - ball_p[0]) ** 2 + (xs - ball_p[1]) ** 2).sqrt()
        disc = dist <= radius
        lab[disc] = BALL
        light = ((ys - ball_p[0] + 0.4 * radius) ** 2 + (xs - ball_p[1] + 0.4 * radius) ** 2).sqrt() / radius
        img = torch.where(disc, ball_colour.view(3, 1, 1) + 0.25 - 0.45 * light.clamp(max=1.5), img)
        labels.append(lab)
        frames.append(img.clamp(-1, 1))
        for p, v, lo, hi in (
            (ball_p, ball_v, np.array([radius, radius]), np.array([S - radius, S - radius])),
            (box_p, box_v, np.zeros(2), np.array([S - box_wh[1], S - box_wh[0]])),
        ):
            p += v
            bounce = (p < lo) | (p > hi)
            p[:] = np.where(p < lo, 2 * lo - p, np.where(p > hi, 2 * hi - p, p))
            v[bounce] *= -1
    return torch.stack(labels), torch.stack(frames)


def label_planes(labels: Tensor, n_classes: int = N_VIDEO_CLASSES) -> Tensor:
    """Label maps (N, H, W) of class ids -> one-hot planes (N, n_classes, H, W) in {-1, 1}: pix2pix's input."""
    validate.tensor(labels, "labels")
    if labels.dim() != 3 or labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(f"labels must be an integer tensor (N, H, W), got {labels.dtype} {tuple(labels.shape)}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(
            f"labels must hold class ids 0..{n_classes - 1}, got values in [{int(labels.min())}, {int(labels.max())}]"
        )
    return F.one_hot(labels, n_classes).permute(0, 3, 1, 2).float() * 2 - 1


def colour_labels(labels: Tensor) -> Tensor:
    """Label maps (N, H, W) -> a picture of them (N, 3, H, W) in [-1, 1], one colour per class (VIDEO_COLOURS)."""
    planes = label_planes(labels)  # checks the labels
    palette = torch.tensor(VIDEO_COLOURS, dtype=torch.float32) / 127.5 - 1
    return palette[planes.argmax(1)].permute(0, 3, 1, 2)


def flicker_map(frames: Tensor, labels: Tensor, gain: float = 4.0) -> Tensor:
    """What :func:`flicker` averages, as a picture: frames (T, C, H, W), labels (T, H, W) -> (T, 3, H, W) in [-1, 1],
    white where |frames[t] - frames[t - 1]| (channel mean, times ``gain``) is large, black where small or the label
    changed; frame 0 is black."""
    flicker(frames, labels)  # checks the shapes
    change = (frames[1:] - frames[:-1]).abs().mean(1) * (labels[1:] == labels[:-1])
    change = torch.cat([torch.zeros_like(change[:1]), change])
    return ((gain * change).clamp(0, 1) * 2 - 1).unsqueeze(1).expand(-1, 3, -1, -1)


def video_pairs(n_videos: int, n_frames: int = 16, size: int = 64, seed: int = 0) -> tuple[Tensor, Tensor]:
    """``n_videos`` scenes with seeds seed, seed + 1, ... -> (labels (V, T, H, W) int64, frames (V, T, 3, H, W))."""
    validate.positive_int(n_videos, "n_videos")
    videos = [moving_scene(n_frames, size, seed + i) for i in range(n_videos)]
    return torch.stack([v[0] for v in videos]), torch.stack([v[1] for v in videos])


# >>> saved from notebooks/10_applications.ipynb (edit it there, then run `make save`) >>>
def flicker(frames: Tensor, labels: Tensor) -> float:
    """Temporal flicker of a video: frames (T, C, H, W), labels (T, H, W) -> the mean over every frame pair (t - 1, t),
    t = 1..T-1, and every pixel whose label is the same in both frames of |frames[t] - frames[t - 1]|, averaged over
    the C channels. 0 for a video whose unchanged regions do not change; a float."""
    if not isinstance(frames, Tensor) or not isinstance(labels, Tensor):
        raise TypeError("frames and labels must be torch.Tensors")
    if frames.dim() != 4 or labels.dim() != 3 or labels.shape != frames.shape[:1] + frames.shape[2:] or len(frames) < 2:
        raise ValueError(
            f"frames must be (T, C, H, W) and labels (T, H, W) with T >= 2, "
            f"got {tuple(frames.shape)} and {tuple(labels.shape)}"
        )
    change = (frames[1:] - frames[:-1]).abs().mean(dim=1)  # (T - 1, H, W): mean over the channels
    same = labels[1:] == labels[:-1]  # (T - 1, H, W): pixels that keep their label
    if not same.any():
        raise ValueError("no pixel keeps its label between consecutive frames: flicker is undefined")
    return float(change[same].mean())


class TemporalGenerator(nn.Module):
    """vid2vid's idea for a static camera: a U-Net sees (planes_t, planes_{t-1}, previous frame), 2K + 3 channels,
    and outputs an image h and a mask m in [0, 1]; the frame is m * previous + (1 - m) * h (N, 3, H, W): copy what
    stays, paint what is new."""

    def __init__(self, unet: nn.Module) -> None:
        super().__init__()
        self.unet = unet

    def forward(self, a: Tensor) -> Tensor:
        validate.tensor(a, "a")
        if a.dim() != 4 or a.shape[1] < 4:
            raise ValueError(
                f"a must be (N, 2K + 3, H, W): label planes of t and t - 1, then the previous frame, "
                f"got {tuple(a.shape)}"
            )
        out = self.unet(a)
        mask = (out[:, 3:4] + 1) / 2
        return mask * a[:, -3:] + (1 - mask) * out[:, :3]


# <<< end of the code saved from notebooks/10_applications.ipynb <<<


def temporal_generator(
    n_classes: int = N_VIDEO_CLASSES, size: int = 64, width: int = 16, dropout: float = 0.5
) -> TemporalGenerator:
    """A :class:`TemporalGenerator` around ``pix2pix.unet_generator(2 n_classes + 3, 4, size, width, dropout)``."""
    validate.positive_int(n_classes, "n_classes")
    return TemporalGenerator(pix2pix.unet_generator(2 * n_classes + 3, 4, size, width=width, dropout=dropout))


def previous_frame_sampler(
    labels: Tensor, frames: Tensor, noise: float = 0.02, blank: float = 0.15, seed: int = 0
) -> Callable[[int], tuple[Tensor, Tensor]]:
    """Training pairs for the temporal model from videos labels (V, T, H, W) and frames (V, T, 3, H, W): a function
    n -> (a (n, 2K + 3, H, W), b (n, 3, H, W)): a = label planes of frame t and of frame t - 1, and the true frame
    t - 1 plus Gaussian ``noise``; b = frame t. With probability ``blank`` (always for t = 0) the previous frame is a
    blank (all zeros) and the previous planes are those of frame t: how :func:`translate_video` starts a video."""
    validate.tensor(labels, "labels")
    validate.tensor(frames, "frames")
    if (
        labels.dim() != 4
        or frames.dim() != 5
        or frames.shape[2] != 3
        or labels.shape != frames.shape[:2] + frames.shape[3:]
    ):
        raise ValueError(
            f"labels must be (V, T, H, W) and frames (V, T, 3, H, W) of the same V, T, H, W, "
            f"got {tuple(labels.shape)} and {tuple(frames.shape)}"
        )
    if not (0 <= noise and 0 <= blank <= 1):
        raise ValueError(f"noise must be >= 0 and blank in [0, 1], got {noise} and {blank}")
    V, T = labels.shape[:2]
    gen = torch.Generator().manual_seed(seed)

    def sample(n: int) -> tuple[Tensor, Tensor]:
        v, t = torch.randint(V, (n,), generator=gen), torch.randint(T, (n,), generator=gen)
        keep = (t > 0) & (torch.rand(n, generator=gen) >= blank)
        before = torch.where(keep, t - 1, t)
        prev = frames[v, before] + noise * torch.randn(n, 3, *frames.shape[-2:], generator=gen)
        prev = prev.clamp(-1, 1) * keep.view(n, 1, 1, 1)
        return torch.cat([label_planes(labels[v, t]), label_planes(labels[v, before]), prev], dim=1), frames[v, t]

    return sample


@torch.no_grad()
def translate_video(
    generator: nn.Module, planes: Tensor, temporal: bool, previous: Tensor | None = None, dropout: bool = False
) -> Tensor:
    """Translate label planes (T, K, H, W) frame by frame -> frames (T, 3, H, W) in [-1, 1] (batch norm in eval mode).

    ``temporal=False``: G sees each frame's planes alone. ``temporal=True``: G sees the planes of frames t and t - 1
    and its own previous output (2K + 3 channels), fed back autoregressively; frame 0 sees its own planes twice and
    ``previous`` (3, H, W) or, when None, a blank (all-zero) frame. ``dropout=True`` keeps dropout on (pix2pix's
    noise), a fresh draw for every frame.
    """
    validate.tensor(planes, "planes")
    if planes.dim() != 4:
        raise ValueError(f"planes must be (T, K, H, W) (label_planes of a label video), got {tuple(planes.shape)}")
    if not temporal:
        return torch.cat(
            [pix2pix.translate(generator, p.unsqueeze(0), dropout=dropout, batch_stats=False) for p in planes]
        )
    prev = torch.zeros(1, 3, *planes.shape[-2:]) if previous is None else previous.unsqueeze(0)
    if prev.shape != (1, 3, *planes.shape[-2:]):
        raise ValueError(f"previous must be one frame (3, H, W) of the planes' size, got {tuple(previous.shape)}")
    out = []
    for t in range(len(planes)):
        a = torch.cat([planes[t : t + 1], planes[max(t - 1, 0) : max(t - 1, 0) + 1], prev.to(planes)], dim=1)
        prev = pix2pix.translate(generator, a, dropout=dropout, batch_stats=False)
        out.append(prev)
    return torch.cat(out)


def filmstrip(videos: dict[str, Tensor], steps: tuple[int, ...] = (0, 4, 8, 12), scale: float = 1.2) -> plt.Figure:
    """A static figure: one row per video (name -> frames (T, 3, H, W) in [-1, 1]), the frames at ``steps``."""
    if not videos:
        raise ValueError("videos must name at least one video (a dict name -> frames (T, 3, H, W))")
    steps = tuple(t for t in steps if all(t < len(v) for v in videos.values()))
    fig, axes = plt.subplots(
        len(videos), len(steps), figsize=(scale * len(steps) + 1.2, scale * len(videos)), squeeze=False
    )
    for row, (name, frames) in enumerate(videos.items()):
        for col, t in enumerate(steps):
            ax = axes[row, col]
            ax.imshow(((frames[t].float().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).cpu().numpy())
            ax.set(xticks=[], yticks=[])
            if row == 0:
                ax.set_title(f"frame {t}", fontsize=9)
            if col == 0:
                ax.set_ylabel(name, fontsize=9)
    fig.tight_layout()
    return fig


def animate(videos: dict[str, Tensor], fps: int = 6, scale: float = 1.6, dpi: int = 72) -> animation.FuncAnimation:
    """A matplotlib animation of videos side by side (name -> frames (T, 3, H, W) in [-1, 1]); show it in a notebook
    with ``IPython.display.HTML(anim.to_jshtml())`` (it embeds every frame: keep T and the size small)."""
    if not videos:
        raise ValueError("videos must name at least one video (a dict name -> frames (T, 3, H, W))")
    lengths = {len(v) for v in videos.values()}
    if len(lengths) != 1:
        raise ValueError(f"the videos must have the same number of frames, got {sorted(lengths)}")
    to_rgb = lambda x: ((x.float().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).cpu().numpy()  # noqa: E731
    fig, axes = plt.subplots(1, len(videos), figsize=(scale * len(videos), scale + 0.4), squeeze=False, dpi=dpi)
    shown = []
    for ax, (name, frames) in zip(axes[0], videos.items()):
        shown.append(ax.imshow(to_rgb(frames[0])))
        ax.set(xticks=[], yticks=[])
        ax.set_title(name, fontsize=8)
    fig.tight_layout()

    def draw(t: int) -> list:
        for im, frames in zip(shown, videos.values()):
            im.set_data(to_rgb(frames[t]))
        return shown

    anim = animation.FuncAnimation(fig, draw, frames=lengths.pop(), interval=1000 / fps, blit=True)
    plt.close(fig)
    return anim
