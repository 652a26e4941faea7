#!/usr/bin/env python3
"""Draw notebook 10's three diagrams as SVG files in notebooks/figures/ (nothing here is trained):

* 10_face_swap.svg       the face swap behind a deepfake: one shared encoder, one decoder per person, and the
                         detect, align, generate, blend pipeline around it (cartoon faces, drawn);
* 10_pose_transfer.svg   pose transfer as in Everybody Dance Now: source frame, pose skeleton, a generator trained
                         on the target person, the target person in the source's pose (stick figures, drawn);
* 10_video_to_game.svg   video to game: a game engine computes label maps that a vid2vid-style generator paints,
                         and GameGAN, a generator that is itself the game (label map and frame from the course's
                         procedural video, utils.video.moving_scene).

    python scripts/draw_applications_figures.py            # writes the three files
    python scripts/draw_applications_figures.py --out DIR  # somewhere else (the tests use a temporary folder)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patches

from utils import video

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "notebooks" / "figures"
NAMES = ("10_face_swap.svg", "10_pose_transfer.svg", "10_video_to_game.svg")

BOX = {"boxstyle": "round,pad=0.35", "linewidth": 1.2}
NET = "#dbe8f6"  # networks
DATA = "#f3f3f3"  # fixed steps (no learning)
NOTE = "#555555"


def setup(width: float, height: float) -> tuple[plt.Figure, plt.Axes]:
    """A figure with one axes in data units = inches (0..width, 0..height), no frame."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def box(ax: plt.Axes, x: float, y: float, text: str, colour: str = NET, size: float = 10) -> None:
    """A rounded box with text centred at (x, y)."""
    ax.text(x, y, text, ha="center", va="center", fontsize=size, bbox={**BOX, "facecolor": colour})


def arrow(ax: plt.Axes, a: tuple[float, float], b: tuple[float, float], text: str = "", style: str = "-|>") -> None:
    """An arrow from a to b, with an optional label above its middle."""
    ax.annotate("", b, a, arrowprops={"arrowstyle": style, "color": "black", "lw": 1.2, "shrinkA": 2, "shrinkB": 2})
    if text:
        ax.text((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + 0.12, text, ha="center", va="bottom", fontsize=8, color=NOTE)


# --------------------------------------------------------------------------------------------- cartoon faces
PEOPLE = {  # identity: face shape, skin, hair
    "A": {"width": 0.36, "height": 0.44, "skin": "#f1c9a5", "hair": "#3b2a1a"},
    "B": {"width": 0.42, "height": 0.40, "skin": "#c98e62", "hair": "#d9a521"},
}


def face(ax: plt.Axes, x: float, y: float, who: str, tilt: float = 0.0, smile: float = 0.0, scale: float = 1.0) -> None:
    """A cartoon face at (x, y): identity from PEOPLE[who], pose (tilt, degrees) and expression (smile, -1..1)."""
    p = PEOPLE[who]
    w, h = p["width"] * scale, p["height"] * scale
    rot = np.deg2rad(tilt)

    def at(dx: float, dy: float) -> tuple[float, float]:
        return x + dx * np.cos(rot) - dy * np.sin(rot), y + dx * np.sin(rot) + dy * np.cos(rot)

    ax.add_patch(patches.Ellipse(at(0, 0.55 * h), 2.05 * w, 1.1 * h, angle=tilt, color=p["hair"], zorder=2))
    ax.add_patch(
        patches.Ellipse((x, y), 2 * w, 2 * h, angle=tilt, facecolor=p["skin"], edgecolor="k", lw=0.8, zorder=3)
    )
    for side in (-1, 1):
        ax.add_patch(patches.Ellipse(at(side * 0.4 * w, 0.2 * h), 0.22 * w, 0.16 * h, angle=tilt, color="k", zorder=4))
    xs = np.linspace(-0.45 * w, 0.45 * w, 20)
    ys = -0.45 * h - smile * 0.25 * h * (1 - (xs / (0.45 * w)) ** 2)
    mouth = np.array([at(a, b) for a, b in zip(xs, ys)])
    ax.plot(mouth[:, 0], mouth[:, 1], color="#8a2b2b", lw=2, zorder=4, solid_capstyle="round")


def draw_face_swap(path: Path) -> None:
    fig, ax = setup(9.6, 5.9)
    ax.text(0.15, 5.6, "Training: one shared encoder E, one decoder per person", fontsize=11, weight="bold")
    ax.add_patch(
        patches.FancyBboxPatch(
            (2.55, 2.9), 0.8, 1.9, boxstyle="round,pad=0.05", facecolor=NET, edgecolor="k", lw=1.2, zorder=1
        )
    )
    ax.text(2.95, 3.85, "encoder E\n(shared)", ha="center", va="center", fontsize=10)
    for who, y, tilt, smile in (("A", 4.5, -12, 0.8), ("B", 3.2, 10, -0.2)):
        face(ax, 0.8, y, who, tilt, smile)
        arrow(ax, (1.35, y), (2.5, y), f"photos of {who}")
        arrow(ax, (3.4, y), (4.5, y), "code")
        box(ax, 5.2, y, f"decoder $D_{who}$")
        arrow(ax, (5.9, y), (6.9, y))
        face(ax, 7.45, y, who, tilt, smile)
        ax.text(8.05, y, f"{who} rebuilt\n(loss: pixels)", fontsize=8, va="center", color=NOTE)
    ax.text(0.15, 2.3, "The swap: encode a frame of A, decode with B's decoder", fontsize=11, weight="bold")
    face(ax, 0.8, 1.55, "A", -12, 0.8)
    arrow(ax, (1.35, 1.55), (2.45, 1.55))
    box(ax, 2.95, 1.55, "encoder E")
    arrow(ax, (3.45, 1.55), (4.5, 1.55), "pose, expression")
    box(ax, 5.2, 1.55, "decoder $D_B$")
    arrow(ax, (5.9, 1.55), (6.9, 1.55))
    face(ax, 7.45, 1.55, "B", -12, 0.8)
    ax.text(8.05, 1.55, "B's face with\nA's pose and\nexpression", fontsize=8, va="center", color=NOTE)
    ax.text(0.15, 0.95, "Around it, for every frame of the video:", fontsize=9, color=NOTE)
    steps = ["detect\nthe face", "align\n(landmarks)", "generate\n(E, then $D_B$)", "blend back\n(mask, colour)"]
    for i, s in enumerate(steps):
        box(ax, 1.0 + 2.3 * i, 0.45, s, NET if i == 2 else DATA, size=9)
        if i:
            arrow(ax, (1.75 + 2.3 * (i - 1), 0.45), (0.25 + 2.3 * i, 0.45))
    ax.text(9.45, 0.02, "A diagram with cartoon faces: nothing here is trained.", ha="right", fontsize=8, color=NOTE)
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


# --------------------------------------------------------------------------------------------- stick figures
LIMBS = [(0, 1), (1, 2), (2, 3), (1, 4), (4, 5), (1, 6), (6, 7), (7, 8), (6, 9), (9, 10)]
LIMB_COLOURS = ["#444", "#e41a1c", "#e41a1c", "#377eb8", "#377eb8", "#444", "#4daf4a", "#4daf4a", "#984ea3", "#984ea3"]


def dance_pose() -> np.ndarray:
    """Keypoints (11, 2) of a dancing pose, body height about 1: head, neck, right arm (elbow, hand), left arm,
    hip, right leg (knee, foot), left leg."""
    return np.array(
        [
            [0.0, 0.92],
            [0.0, 0.78],
            [0.22, 0.92],
            [0.32, 1.1],
            [-0.2, 0.66],
            [-0.36, 0.5],
            [0.02, 0.42],
            [0.2, 0.22],
            [0.32, 0.0],
            [-0.12, 0.2],
            [-0.1, 0.0],
        ]
    )


def person(ax: plt.Axes, pose: np.ndarray, x: float, y: float, scale: float, colour: str, head: str) -> None:
    """A person drawn around the keypoints: thick limbs and a round head."""
    pts = pose * scale + np.array([x, y])
    for a, b in LIMBS:
        ax.plot(*pts[[a, b]].T, color=colour, lw=9 * scale, solid_capstyle="round", zorder=2)
    ax.add_patch(patches.Circle(pts[0] + np.array([0, 0.08 * scale]), 0.13 * scale, color=head, zorder=3))


def skeleton(ax: plt.Axes, pose: np.ndarray, x: float, y: float, scale: float) -> None:
    """The pose as a detector outputs it: keypoints joined by coloured limbs."""
    pts = pose * scale + np.array([x, y])
    for (a, b), c in zip(LIMBS, LIMB_COLOURS):
        ax.plot(*pts[[a, b]].T, color=c, lw=2.5, zorder=2)
    ax.scatter(*pts.T, s=12, color="k", zorder=3)


def draw_pose_transfer(path: Path) -> None:
    fig, ax = setup(10.0, 3.6)
    pose = dance_pose()
    ax.text(
        0.15,
        3.35,
        "Pose transfer (Everybody Dance Now): the source's moves, the target's body",
        fontsize=11,
        weight="bold",
    )
    person(ax, pose, 0.75, 0.9, 1.6, "#d95f02", "#8c510a")
    ax.text(0.75, 0.45, "source frame\n(the dancer)", ha="center", va="top", fontsize=8, color=NOTE)
    arrow(ax, (1.45, 1.75), (1.95, 1.75))
    box(ax, 2.7, 1.75, "pose\ndetector", DATA)
    arrow(ax, (3.4, 1.75), (3.9, 1.75))
    skeleton(ax, pose, 4.6, 0.9, 1.6)
    ax.text(4.6, 0.45, "pose skeleton\n(keypoints)", ha="center", va="top", fontsize=8, color=NOTE)
    arrow(ax, (5.3, 1.75), (5.8, 1.75), "normalise")
    box(ax, 6.75, 1.75, "generator $G$\n(pix2pix-style,\ntrained on the\ntarget's video)")
    arrow(ax, (7.75, 1.75), (8.25, 1.75))
    person(ax, pose * np.array([0.9, 1.12]), 9.05, 0.8, 1.6, "#1b9e77", "#4d3319")
    ax.text(9.05, 0.45, "target person,\nsame pose", ha="center", va="top", fontsize=8, color=NOTE)
    ax.text(
        5.0,
        0.02,
        "Training pairs come from the target's own video: (skeleton of frame t, frame t). "
        "A diagram: nothing here is trained.",
        ha="center",
        fontsize=8,
        color=NOTE,
    )
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


# --------------------------------------------------------------------------------------------- video to game
def rgb(x: np.ndarray) -> np.ndarray:
    """A (3, H, W) image in [-1, 1] as (H, W, 3) in [0, 1]."""
    return (np.transpose(x, (1, 2, 0)) + 1) / 2


def image(ax: plt.Axes, img: np.ndarray, x: float, y: float, size: float, caption: str) -> None:
    ax.imshow(img, extent=(x - size / 2, x + size / 2, y - size / 2, y + size / 2), zorder=2, interpolation="nearest")
    ax.add_patch(patches.Rectangle((x - size / 2, y - size / 2), size, size, fill=False, lw=0.8, zorder=3))
    ax.text(x, y - size / 2 - 0.08, caption, ha="center", va="top", fontsize=8, color=NOTE)


def draw_video_to_game(path: Path) -> None:
    fig, ax = setup(10.0, 5.2)
    labels, frames = video.moving_scene(n_frames=2, size=64, seed=3)
    label_img = rgb(video.colour_labels(labels)[1].numpy())
    frame_img = rgb(frames[1].numpy())
    ax.text(
        0.15, 4.95, "1. A game engine draws the layout, a vid2vid-style generator paints it", fontsize=11, weight="bold"
    )
    box(ax, 0.75, 3.8, "player's\naction", DATA)
    arrow(ax, (1.35, 3.8), (1.85, 3.8))
    box(ax, 2.65, 3.8, "game engine\n(positions,\nlayout)", DATA)
    arrow(ax, (3.45, 3.8), (3.95, 3.8))
    image(ax, label_img, 4.65, 3.8, 1.1, "label map $s_t$")
    arrow(ax, (5.25, 3.8), (5.75, 3.8))
    box(ax, 6.6, 3.8, "generator\n$G(s_t, s_{t-1}, \\hat y_{t-1})$")
    arrow(ax, (7.5, 3.8), (8.0, 3.8))
    image(ax, frame_img, 8.7, 3.8, 1.1, "frame $\\hat y_t$")
    ax.annotate(
        "",
        (6.6, 3.3),
        (8.7, 3.05),
        arrowprops={"arrowstyle": "-|>", "lw": 1, "color": NOTE, "connectionstyle": "arc3,rad=-0.3", "shrinkB": 8},
    )
    ax.text(7.7, 2.85, "previous frame (section 4)", fontsize=8, color=NOTE, ha="center", va="top")
    ax.text(0.15, 2.3, "2. GameGAN: the generator is the game", fontsize=11, weight="bold")
    box(ax, 0.75, 1.2, "player's\naction $a_t$", DATA)
    arrow(ax, (1.45, 1.2), (2.3, 1.2))
    box(ax, 3.55, 1.2, "generator\n(dynamics, memory,\nrenderer)")
    arrow(ax, (4.8, 1.2), (5.6, 1.2))
    image(ax, frame_img, 6.3, 1.2, 1.1, "next frame $x_{t+1}$")
    ax.annotate(
        "",
        (3.55, 0.72),
        (6.3, 0.48),
        arrowprops={"arrowstyle": "-|>", "lw": 1, "color": NOTE, "connectionstyle": "arc3,rad=-0.25", "shrinkB": 8},
    )
    ax.text(4.9, 0.42, "fed back", fontsize=8, color=NOTE, ha="center", va="top")
    ax.text(
        7.2,
        1.55,
        "trained on recorded play:\n(frames, actions) pairs,\nwith a GAN loss; no game code",
        fontsize=8,
        color=NOTE,
        va="center",
    )
    ax.text(
        5.0,
        0.05,
        "A diagram: the pictures are the course's procedural video, not generated here.",
        ha="center",
        fontsize=8,
        color=NOTE,
    )
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=FIGURES)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    style = {"svg.hashsalt": "course-10", "svg.fonttype": "none", "font.family": "DejaVu Sans"}
    with plt.style.context("default"), plt.rc_context(style):  # the same file on every run
        for name, draw in zip(NAMES, (draw_face_swap, draw_pose_transfer, draw_video_to_game)):
            draw(args.out / name)
            print("wrote", args.out / name)


if __name__ == "__main__":
    main()
