#!/usr/bin/env python3
"""Draw the course's teaching diagrams as SVG files in notebooks/figures/ (matplotlib, text drawn as paths).

    python scripts/draw_diagrams.py            # write all five diagrams
    python scripts/draw_diagrams.py --check    # exit 1, naming each file that is missing or differs from the drawing

The files are deterministic: the same matplotlib gives the same bytes (fixed ids, no date). Each diagram is one
function below (the PatchGAN one shows scikit-image's bundled astronaut photo). The shapes they label come from
the course's code, and tests/test_diagrams.py checks them against it.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import ConnectionPatch, FancyBboxPatch, Rectangle  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "notebooks" / "figures"
STYLE = {
    "svg.hashsalt": "course",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "mathtext.fontset": "dejavusans",
}
#: Colours: encoder / real data, decoder / generated, networks that learn, frozen networks, losses.
BLUE, ORANGE, GREEN, GREY, RED, PURPLE = "#dbe8f6", "#fbe3cc", "#d9efd5", "#e6e6e6", "#f6d5d5", "#e9ddf3"
EDGE = "#333333"

#: notebook 05's U-Net: 64 x 64 RGB images, width 16 (utils.pix2pix.unet_generator(3, 3, 64, width=16)).
UNET_SIZE, UNET_WIDTH = 64, 16
#: notebook 09's loss layers (utils.faststyle.STYLE_LAYERS and CONTENT_LAYER, Johnson et al.'s choice).
STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
CONTENT_LAYER = "relu2_2"
#: The PatchGAN of notebook 05 (3 stride-2 layers) on a 256 x 256 image: one score per 70 x 70 patch, 8 pixels apart.
PATCH_IMAGE, PATCH_FIELD, PATCH_STRIDE, PATCH_OUT = 256, 70, 8, 30
#: The score the diagram picks (row, column of the 30 x 30 map): its patch covers the face.
PATCH_CELL = (9, 16)


def unet_levels(size: int = UNET_SIZE, width: int = UNET_WIDTH) -> list[tuple[int, int]]:
    """(channels, side) of each encoder output of ``utils.pix2pix.unet_generator``: side size/2 down to 1."""
    depth = int(np.log2(size))
    return [(width * min(2**i, 8), size // 2 ** (i + 1)) for i in range(depth)]


def patch_field(row: int, col: int) -> tuple[int, int]:
    """Top-left pixel (y, x) of the 70 x 70 field of the PatchGAN's score (row, col) on a 256 x 256 image."""
    return PATCH_STRIDE * row - 23, PATCH_STRIDE * col - 23  # 3 convs k4 s2 p1, 2 convs k4 s1 p1


# --------------------------------------------------------------------------- drawing helpers
def canvas(width: float, height: float) -> tuple[plt.Figure, plt.Axes]:
    """A figure whose data units are inches (origin bottom left), with no axes drawn."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return fig, ax


def box(ax: plt.Axes, x: float, y: float, w: float, h: float, text: str = "", fc: str = "white", **kw) -> None:
    """A rounded box with lower-left corner (x, y) and its text in the middle."""
    ax.add_patch(
        FancyBboxPatch(
            (x, y),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.06",
            fc=fc,
            ec=kw.pop("ec", EDGE),
            lw=kw.pop("lw", 1),
            zorder=2,
        )
    )
    if text:
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", zorder=3, **kw)


def arrow(ax: plt.Axes, start: tuple, end: tuple, color: str = EDGE, ls: str = "-", lw: float = 1.3, **kw) -> None:
    """An arrow from ``start`` to ``end`` (connectionstyle etc. in ``kw``)."""
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        zorder=kw.pop("zorder", 1.5),
        arrowprops={
            "arrowstyle": "-|>,head_length=0.5,head_width=0.25",
            "color": color,
            "lw": lw,
            "ls": ls,
            "shrinkA": 0,
            "shrinkB": 0,
            **kw,
        },
    )


# --------------------------------------------------------------------------- the diagrams
def unet() -> plt.Figure:
    """notebook 05: the U-Net, encoder down to the 1 x 1 bottleneck, decoder up, skips concatenating features."""
    levels = unet_levels()
    depth = len(levels)  # 6 for 64 x 64
    fig, ax = canvas(9.0, 6.4)
    row, top, bw, bh = 0.68, 5.5, 1.25, 0.42
    enc_c, dec_c, skip_c = "#1f5fa8", "#c25a00", "#777777"

    def y_of(level: int) -> float:
        return top - row * level

    def x_enc(level: int) -> float:
        return 0.3 + 0.42 * level

    def x_dec(level: int) -> float:
        return 9.0 - 0.3 - 0.42 * level - bw

    box(ax, x_enc(0), y_of(0), bw, bh, f"input\n3 · {UNET_SIZE}×{UNET_SIZE}", "white", fontsize=9)
    box(ax, x_dec(0), y_of(0), bw, bh, f"output\n3 · {UNET_SIZE}×{UNET_SIZE}", "white", fontsize=9)
    for level, (c, s) in enumerate(levels[:-1], start=1):
        y = y_of(level)
        box(ax, x_enc(level), y, bw, bh, f"{c} · {s}×{s}", BLUE, fontsize=9)
        # decoder: the copied encoder features (blue) beside the upsampled features (orange), concatenated
        half = bw / 2
        box(ax, x_dec(level), y, half, bh, f"{c}", BLUE, fontsize=9)
        box(ax, x_dec(level) + half, y, half, bh, f"{c}", ORANGE, fontsize=9)
        ax.text(x_dec(level) + bw + 0.08, y + bh / 2, f"{s}×{s}", va="center", fontsize=8, color="#555555")
        arrow(ax, (x_enc(level) + bw, y + bh / 2), (x_dec(level), y + bh / 2), color=skip_c, ls="--", lw=1)
    c, s = levels[-1]
    yb = y_of(depth)
    box(ax, 4.5 - bw / 2, yb, bw, bh, f"{c} · {s}×{s}", GREY, fontsize=9)
    ax.text(4.5, yb - 0.08, "bottleneck", ha="center", va="top", fontsize=9)
    # encoder arrows (down) and decoder arrows (up)
    for level in range(depth - 1):
        y0, y1 = y_of(level), y_of(level + 1) + bh
        arrow(ax, (x_enc(level) + 0.25, y0), (x_enc(level + 1) + 0.25, y1), color=enc_c)
        arrow(ax, (x_dec(level + 1) + bw - 0.25, y1), (x_dec(level) + bw - 0.25, y0), color=dec_c)
    arrow(ax, (x_enc(depth - 1) + 0.25, y_of(depth - 1)), (4.5 - bw / 2, yb + bh / 2), color=enc_c)
    arrow(ax, (4.5 + bw / 2, yb + bh / 2), (x_dec(depth - 1) + bw - 0.25, y_of(depth - 1)), color=dec_c)
    ax.text(x_enc(0), y_of(0) + bh + 0.2, "encoder", fontsize=11, weight="bold", color=enc_c)
    ax.text(x_dec(0) + bw, y_of(0) + bh + 0.2, "decoder", fontsize=11, weight="bold", color=dec_c, ha="right")
    ax.text(
        4.5,
        y_of(1) + bh / 2 + 0.08,
        "skip: copy, then concatenate",
        ha="center",
        va="bottom",
        fontsize=9,
        color="#555555",
    )
    # the legend
    for k, (colour, ls, label) in enumerate(
        (
            (enc_c, "-", "conv 4×4, stride 2: halves the side"),
            (dec_c, "-", "transposed conv 4×4, stride 2: doubles the side"),
            (skip_c, "--", "skip connection"),
        )
    ):
        x, y = (0.3, 4.7, 0.3)[k], (0.9, 0.9, 0.6)[k]
        arrow(ax, (x, y), (x + 0.45, y), color=colour, ls=ls)
        ax.text(x + 0.55, y, label, va="center", fontsize=9)
    ax.text(2.5, 0.6, "blue: encoder features   orange: decoder features", va="center", fontsize=9)
    ax.text(
        0.3,
        0.1,
        f"Labels: channels · height×width, for notebook 05's {UNET_SIZE}×{UNET_SIZE} images "
        f"(width {UNET_WIDTH}).\nThe paper's U-Net for 256×256 images has 8 levels, with 64, 128, 256, then 512 "
        "channels.",
        fontsize=8.5,
        color="#555555",
        linespacing=1.4,
    )
    return fig


def patchgan_field() -> plt.Figure:
    """notebook 05: one PatchGAN score and the 70 x 70 patch of the 256 x 256 image that it judges."""
    import skimage.data

    photo = skimage.data.astronaut().astype(np.float32)  # (512, 512, 3)
    image = photo.reshape(256, 2, 256, 2, 3).mean((1, 3)) / 255
    image = np.round(image * 23) / 23  # 24 levels per colour: the embedded PNG stays small, the photo looks the same
    row, col = PATCH_CELL
    y0, x0 = patch_field(row, col)
    fig = plt.figure(figsize=(9.0, 4.6))
    ax_img = fig.add_axes((0.04, 0.15, 0.42, 0.76))
    ax_out = fig.add_axes((0.56, 0.15, 0.40, 0.76))
    ax_img.imshow(image, extent=(0, PATCH_IMAGE, PATCH_IMAGE, 0), interpolation="none")
    ax_img.add_patch(Rectangle((x0, y0), PATCH_FIELD, PATCH_FIELD, fill=False, ec="#e00000", lw=2.2))
    ax_img.set(xticks=(0, 128, 256), yticks=(0, 128, 256), xlim=(0, PATCH_IMAGE), ylim=(PATCH_IMAGE, 0))
    ax_img.tick_params(labelsize=8)
    ax_img.set_title("the image D judges: 256 × 256 pixels", fontsize=10)
    ax_img.text(
        x0 + PATCH_FIELD / 2,
        y0 + PATCH_FIELD + 6,
        "70 × 70 patch",
        color="#e00000",
        ha="center",
        va="top",
        fontsize=9,
        weight="bold",
        bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 1.5},
    )
    # the 30 x 30 map of scores, one cell per patch
    n = PATCH_OUT
    ax_out.add_patch(Rectangle((0, 0), n, n, fc="#f2f2f2", ec="none"))
    for k in range(n + 1):
        ax_out.plot([k, k], [0, n], color="#bbbbbb", lw=0.5)
        ax_out.plot([0, n], [k, k], color="#bbbbbb", lw=0.5)
    ax_out.add_patch(Rectangle((col, row), 1, 1, fc="#e00000", ec="#e00000"))
    ax_out.set(xlim=(0, n), ylim=(n, 0), xticks=(0, 10, 20, 30), yticks=(0, 10, 20, 30), aspect="equal")
    ax_out.tick_params(labelsize=8)
    ax_out.set_title("D's output: 30 × 30 scores, one per patch", fontsize=10)
    for (ya, xa), (yb, xb) in (
        ((y0, x0 + PATCH_FIELD), (row, col)),
        ((y0 + PATCH_FIELD, x0 + PATCH_FIELD), (row + 1, col)),
    ):
        fig.add_artist(
            ConnectionPatch(
                (xa, ya), (xb, yb), "data", "data", axesA=ax_img, axesB=ax_out, color="#e00000", lw=1, ls="--"
            )
        )
    fig.text(
        0.5,
        0.03,
        'Each score says "real" or "fake" for its own patch. Neighbouring patches are 8 pixels apart, so they overlap.',
        ha="center",
        fontsize=9.5,
    )
    return fig


def cyclegan() -> plt.Figure:
    """notebook 07: G and F, D_X and D_Y, the four GAN terms and the two cycles with the L1 cycle loss."""
    fig, ax = canvas(9.0, 4.7)
    bw, bh = 1.0, 0.5
    xs = (0.3, 2.3, 4.3)  # the start, its translation, the round trip
    xd = 6.0  # the discriminator

    def cycle_row(
        y: float,
        names: tuple[str, str, str],
        nets: tuple[str, str],
        fill: tuple[str, str, str],
        disc: str,
        real: str,
        terms: str,
        loss: str,
        title: str,
    ) -> None:
        for x, name, fc in zip(xs, names, fill):
            box(ax, x, y, bw, bh, name, fc, fontsize=11)
        for (xa, xb), net in zip(zip(xs, xs[1:]), nets):
            arrow(ax, (xa + bw, y + bh / 2), (xb, y + bh / 2))
            box(ax, (xa + bw + xb) / 2 - 0.25, y + bh / 2 - 0.2, 0.5, 0.4, net, GREEN, fontsize=12)
        # the cycle loss: the round trip against the start
        arrow(
            ax,
            (xs[2] + bw / 2, y),
            (xs[0] + bw / 2, y),
            color="#7a3fa0",
            ls="--",
            lw=1.2,
            connectionstyle="arc3,rad=-0.2",
            arrowstyle="<|-|>,head_length=0.5,head_width=0.25",
        )
        ax.text(
            (xs[0] + xs[2] + bw) / 2,
            y - 0.5,
            loss,
            ha="center",
            va="center",
            fontsize=10,
            color="#7a3fa0",
            bbox={"fc": "white", "ec": "none", "pad": 1},
        )
        ax.text(xs[0], y + bh + 0.18, title, fontsize=10.5, weight="bold")
        # the discriminator of the middle image's domain, and its terms
        box(ax, xd, y, 0.7, bh, disc, RED, fontsize=12)
        arrow(ax, (xs[1] + bw / 2, y + bh), (xd + 0.2, y + bh), connectionstyle="arc3,rad=-0.25", color="#a03030")
        ax.text(xd + 0.35, y + bh + 0.42, real, ha="center", fontsize=9, color="#a03030")
        arrow(ax, (xd + 0.35, y + bh + 0.36), (xd + 0.35, y + bh), color="#a03030")
        ax.text(xd + 0.85, y + bh / 2, terms, va="center", fontsize=9.5, linespacing=1.7)

    cycle_row(
        3.25,
        ("$x$", "$G(x)$", "$F(G(x))$"),
        ("$G$", "$F$"),
        (BLUE, ORANGE, BLUE),
        "$D_Y$",
        "real $y$",
        r"$\mathcal{L}(D_Y)$: real $y \to 1$, $G(x) \to 0$" + "\n" + r"$\mathcal{L}(G)$: $D_Y(G(x)) \to 1$",
        r"cycle loss $\|F(G(x)) - x\|_1$: $F(G(x)) \approx x$",
        "forward cycle",
    )
    cycle_row(
        1.35,
        ("$y$", "$F(y)$", "$G(F(y))$"),
        ("$F$", "$G$"),
        (ORANGE, BLUE, ORANGE),
        "$D_X$",
        "real $x$",
        r"$\mathcal{L}(D_X)$: real $x \to 1$, $F(y) \to 0$" + "\n" + r"$\mathcal{L}(F)$: $D_X(F(y)) \to 1$",
        r"cycle loss $\|G(F(y)) - y\|_1$: $G(F(y)) \approx y$",
        "backward cycle",
    )
    ax.text(
        0.3,
        0.08,
        r"Green: the generators $G: X \to Y$ and $F: Y \to X$. Blue: domain $X$ (A, handwritten). "
        r"Orange: domain $Y$ (B, typeset)." + "\n" + r"The total: $\mathcal{L} = \mathcal{L}(D_X) + "
        r"\mathcal{L}(D_Y) + \mathcal{L}(G) + \mathcal{L}(F) + \lambda\,\mathcal{L}_{cyc}$, with "
        r"$\mathcal{L}_{cyc}$ the two cycle losses added.",
        fontsize=9.5,
        va="bottom",
        linespacing=1.6,
    )
    return fig


def gram_reshape() -> plt.Figure:
    """notebook 08: feature maps (C, H, W) -> F (C, HW) -> the Gram matrix F F^T / (C H W) of shape (C, C)."""
    c, h, w = 4, 3, 3
    colours = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")
    tints = ("#c9d6ea", "#f4d7c2", "#cde5d3", "#ecc9ca")
    fig, ax = canvas(9.0, 3.75)
    cell, mid, label_y = 0.22, 2.5, 1.4  # matrix cells, the middle line, the top of the labels under the pictures
    i_hi, j_hi = 0, 2  # the highlighted entry G_ij (rows 1 and 3 of F)

    def label(x: float, text: str) -> None:
        ax.text(x, label_y, text, ha="center", va="top", fontsize=10, linespacing=1.4)

    def matrix(x: float, y: float, rows: int, cols: int, colour_of: Callable[[int, int], tuple[str, str]]) -> None:
        for r in range(rows):
            for q in range(cols):
                fc, ec = colour_of(r, q)
                ax.add_patch(Rectangle((x + q * cell, y + (rows - 1 - r) * cell), cell, cell, fc=fc, ec=ec, lw=0.6))

    # the stack of C feature maps, channel 1 in front
    for k in reversed(range(c)):
        ox, oy = 0.35 + 0.22 * k, mid - 0.75 + 0.2 * k
        for r in range(h):
            for q in range(w):
                ax.add_patch(Rectangle((ox + q * 0.3, oy + r * 0.3), 0.3, 0.3, fc=tints[k], ec=colours[k], lw=0.8))
    label(1.15, "feature maps\n$(C, H, W)$")
    arrow(ax, (2.4, mid), (2.95, mid))
    ax.text(2.67, mid + 0.12, "reshape", ha="center", va="bottom", fontsize=9)
    # F: row k is channel k, flattened
    fx, fy = 3.05, mid - c * cell / 2
    matrix(fx, fy, c, h * w, lambda r, q: (tints[r], colours[r]))
    for r in (i_hi, j_hi):
        ax.add_patch(Rectangle((fx, fy + (c - 1 - r) * cell), h * w * cell, cell, fill=False, ec="black", lw=1.8))
    label(fx + h * w * cell / 2, "$F$\n$(C, H{\\cdot}W)$")
    ax.text(fx + h * w * cell + 0.17, mid, r"$\cdot$", ha="center", va="center", fontsize=18)
    # F transposed: column k is channel k
    tx, ty = fx + h * w * cell + 0.35, mid - h * w * cell / 2
    matrix(tx, ty, h * w, c, lambda r, q: (tints[q], colours[q]))
    ax.add_patch(Rectangle((tx + j_hi * cell, ty), cell, h * w * cell, fill=False, ec="black", lw=1.8))
    label(tx + c * cell / 2, "$F^{\\top}$\n$(H{\\cdot}W, C)$")
    # divided by C H W gives the Gram matrix
    ex = tx + c * cell + 0.2
    ax.text(ex + 0.5, mid, r"$/\,(C{\cdot}H{\cdot}W)\;=$", ha="center", va="center", fontsize=11)
    gx, gy = ex + 1.1, mid - c * cell / 2
    matrix(gx, gy, c, c, lambda r, q: ("#eeeeee" if (r, q) != (i_hi, j_hi) else "#ffe08a", "#888888"))
    ax.add_patch(Rectangle((gx + j_hi * cell, gy + (c - 1 - i_hi) * cell), cell, cell, fill=False, ec="black", lw=1.8))
    label(gx + c * cell / 2, "Gram matrix $G$\n$(C, C)$")
    ax.text(
        0.35,
        0.5,
        r"$G_{ij} = \dfrac{1}{C H W} \sum_k F_{ik}\, F_{jk}$: how much channels $i$ and $j$ fire "
        "together, summed over all positions.",
        va="center",
        fontsize=10,
    )
    ax.text(
        0.35,
        0.12,
        f"Here C = {c} channels and H = W = {h}, so H·W = {h * w}. The outlined rows $i = 1$ and "
        "$j = 3$ of $F$ give the entry $G_{13}$.",
        fontsize=9.5,
        color="#444444",
    )
    return fig


def transform_and_loss_net() -> plt.Figure:
    """notebook 09: the image transform network f_W (trained) and the frozen VGG-16 loss network with its losses."""
    fig, ax = canvas(9.0, 4.9)
    mid = 2.35
    # the content image goes through f_W
    box(ax, 0.2, mid - 0.3, 0.75, 0.6, "$x = y_c$", BLUE, fontsize=11)
    arrow(ax, (0.95, mid), (1.3, mid))
    box(ax, 1.3, mid - 0.55, 1.25, 1.1, "image transform\nnetwork $f_W$\n(trained)", GREEN, fontsize=10)
    arrow(ax, (2.55, mid), (2.9, mid))
    box(ax, 2.9, mid - 0.3, 0.6, 0.6, r"$\hat y$", ORANGE, fontsize=12)
    arrow(ax, (3.5, mid), (3.85, mid))
    # the loss network: four VGG blocks, frozen
    ax.add_patch(
        FancyBboxPatch(
            (3.85, mid - 0.55), 3.55, 1.1, boxstyle="round,pad=0,rounding_size=0.08", fc=GREY, ec=EDGE, ls="--"
        )
    )
    xs = [4.0 + 0.85 * k for k in range(4)]
    for k, (x, layer) in enumerate(zip(xs, STYLE_LAYERS)):
        box(ax, x, mid - 0.35, 0.7, 0.7, "", "white")
        ax.text(x + 0.35, mid + 0.08, f"block {k + 1}", ha="center", va="bottom", fontsize=8.5, zorder=3)
        ax.text(x + 0.35, mid - 0.02, layer, ha="center", va="top", fontsize=8, color="#555555", zorder=3)
        if k:
            arrow(ax, (x - 0.15, mid), (x, mid), lw=1)
    # style loss at four layers (top), content loss at one layer (bottom)
    sy, cy = 4.0, 0.65
    for x in xs:
        arrow(ax, (x + 0.35, mid + 0.35), (x + 0.35, sy - 0.35), color="#7a3fa0", lw=1.1)
    box(
        ax,
        xs[0] - 0.05,
        sy - 0.35,
        xs[-1] - xs[0] + 0.8,
        0.55,
        r"style loss: Gram matrices of $\hat y$ vs $y_s$",
        PURPLE,
        fontsize=9.5,
    )
    k_c = STYLE_LAYERS.index(CONTENT_LAYER)
    xc = xs[k_c] + 0.35
    arrow(ax, (xc, mid - 0.35), (xc, cy + 0.28), color="#1f5fa8", lw=1.1)
    ax.text(xc + 0.15, mid - 0.65, "loss network: VGG-16 (frozen)", va="top", fontsize=9.5)
    box(ax, xc - 1.3, cy - 0.27, 2.6, 0.55, r"content loss: features of $\hat y$ vs $y_c$", BLUE, fontsize=9.5)
    # the targets: y_s and y_c through the same network
    box(ax, 7.75, sy - 0.35, 0.75, 0.55, "$y_s$", PURPLE, fontsize=11)
    arrow(ax, (7.75, sy - 0.07), (xs[-1] + 0.75, sy - 0.07), color="#7a3fa0", lw=1.1)
    ax.text(8.12, sy - 0.45, "style image", ha="center", va="top", fontsize=8.5)
    box(ax, 7.75, cy - 0.27, 0.75, 0.55, "$y_c$", BLUE, fontsize=11)
    arrow(ax, (7.75, cy), (xc + 1.3, cy), color="#1f5fa8", lw=1.1)
    ax.text(8.12, cy - 0.37, "content image", ha="center", va="top", fontsize=8.5)
    ax.text(
        8.12,
        mid,
        "$y_s$ and $y_c$\ngo through\nthe same\nfrozen VGG",
        ha="center",
        va="center",
        fontsize=8.5,
        color="#555555",
    )
    # the gradient goes back to f_W only
    arrow(
        ax,
        (xs[0] - 0.05, sy - 0.07),
        (1.92, mid + 0.55),
        color="#2e7d32",
        ls="--",
        lw=1.1,
        connectionstyle="arc3,rad=0.2",
    )
    arrow(ax, (xc - 1.3, cy), (1.92, mid - 0.55), color="#2e7d32", ls="--", lw=1.1, connectionstyle="arc3,rad=-0.2")
    ax.text(
        0.2,
        4.55,
        "The gradients of both losses (dashed green) train only $f_W$. VGG's weights never change.",
        fontsize=9.5,
    )
    return fig


DIAGRAMS: dict[str, Callable[[], plt.Figure]] = {
    "05_unet.svg": unet,
    "05_patchgan_field.svg": patchgan_field,
    "07_cyclegan.svg": cyclegan,
    "08_gram_reshape.svg": gram_reshape,
    "09_transform_and_loss_net.svg": transform_and_loss_net,
}


def render(name: str, fmt: str = "svg", dpi: float = 72) -> bytes:
    """The diagram ``name`` as the bytes of an SVG file (or a PNG with ``fmt="png"``, to look at it)."""
    with plt.rc_context(STYLE):
        fig = DIAGRAMS[name]()
        out = io.BytesIO()
        fig.savefig(out, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
        plt.close(fig)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare the files with the drawings, write nothing")
    parser.add_argument("only", nargs="*", help=f"file names to draw (default: all of {', '.join(DIAGRAMS)})")
    args = parser.parse_args(argv)
    unknown = [name for name in args.only if name not in DIAGRAMS]
    if unknown:
        parser.error(f"unknown diagram {unknown[0]!r}; choose from {list(DIAGRAMS)}")
    stale = []
    for name in args.only or DIAGRAMS:
        svg = render(name)
        path = FIGURES / name
        if args.check:
            if not path.is_file() or path.read_bytes() != svg:
                stale.append(name)
                print(
                    f"notebooks/figures/{name} is {'missing' if not path.is_file() else 'stale'}: "
                    "run python scripts/draw_diagrams.py",
                    file=sys.stderr,
                )
        else:
            FIGURES.mkdir(exist_ok=True)
            path.write_bytes(svg)
            print(f"wrote notebooks/figures/{name} ({len(svg) // 1024} KB)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
