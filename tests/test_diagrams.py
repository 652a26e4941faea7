"""The teaching diagrams in notebooks/figures/*.svg: up to date with scripts/draw_diagrams.py, small, valid SVG,
shown in a notebook, and labelled with the shapes the course's code really has."""

import importlib.util
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "notebooks" / "figures"

spec = importlib.util.spec_from_file_location("draw_diagrams", ROOT / "scripts" / "draw_diagrams.py")
draw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(draw)

NAMES = sorted(draw.DIAGRAMS)


def test_the_five_diagrams_are_drawn():
    assert NAMES == sorted(
        [
            "05_unet.svg",
            "05_patchgan_field.svg",
            "07_cyclegan.svg",
            "08_gram_reshape.svg",
            "09_transform_and_loss_net.svg",
        ]
    )


def test_the_files_are_what_the_script_draws():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "draw_diagrams.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, f"missing or stale diagrams, run python scripts/draw_diagrams.py:\n{result.stderr}"


@pytest.mark.parametrize("name", NAMES)
def test_each_diagram_is_a_small_svg(name):
    path = FIGURES / name
    assert path.is_file(), f"{name} is missing: run python scripts/draw_diagrams.py"
    assert path.stat().st_size < 150_000, f"{name}: {path.stat().st_size:,} bytes, keep it under 150 KB"
    root = ET.parse(path).getroot()
    assert root.tag in ("svg", "{http://www.w3.org/2000/svg}svg"), f"{name}: the root element is {root.tag}, not <svg>"


def _markdown_references() -> dict[str, list[str]]:
    """figures/NAME.svg -> the notebooks whose markdown shows it with ![...](figures/NAME.svg)."""
    found: dict[str, list[str]] = {}
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                for name in re.findall(r"!\[[^\]]*\]\(figures/([^)\s]+\.svg)\)", "".join(cell["source"])):
                    found.setdefault(name, []).append(notebook.name)
    return found


@pytest.mark.parametrize("name", NAMES)
def test_each_diagram_is_shown_in_a_notebook(name):
    assert name in _markdown_references(), f"no notebook's markdown shows ![...](figures/{name})"


def test_every_svg_a_notebook_shows_exists():
    for name, notebooks in _markdown_references().items():
        assert (FIGURES / name).is_file(), f"{notebooks} show figures/{name}, which does not exist"


# --------------------------------------------------------------------------- the labels match the code
def test_the_unet_labels_are_the_course_unet():
    from utils import pix2pix

    nb = (ROOT / "notebooks" / "05_pix2pix.ipynb").read_text()
    assert f"SIZE = {draw.UNET_SIZE}" in nb and f"WIDTH = {draw.UNET_WIDTH}" in nb, "notebook 05's U-Net changed size"
    net = pix2pix.unet_generator(3, 3, draw.UNET_SIZE, width=draw.UNET_WIDTH)
    x, shapes = torch.zeros(1, 3, draw.UNET_SIZE, draw.UNET_SIZE), []
    with torch.no_grad():
        for block in net.down:
            x = block(x)
            shapes.append((x.shape[1], x.shape[-1]))
    assert shapes == draw.unet_levels(), f"the encoder's (channels, side) are {shapes}, the diagram says otherwise"
    # the decoder mirrors them: each decoder block's input is its own features and the encoder's, concatenated
    for j, block in enumerate(net.up[1:], start=1):
        c, _ = draw.unet_levels()[-1 - j]
        assert block[0].in_channels == 2 * c, f"decoder block {j} should take {c} + {c} channels"


def test_the_patch_field_is_the_patchgan_field():
    from utils import pix2pix

    assert pix2pix.receptive_field(pix2pix.patchgan_discriminator(6)) == draw.PATCH_FIELD
    assert pix2pix.patch_output_size(draw.PATCH_IMAGE) == draw.PATCH_OUT
    torch.manual_seed(0)
    d = pix2pix.patchgan_discriminator(1, width=2, norm="none")
    x = torch.randn(1, 1, draw.PATCH_IMAGE, draw.PATCH_IMAGE, requires_grad=True)
    row, col = draw.PATCH_CELL
    d(x)[0, 0, row, col].backward()
    ys, xs = (x.grad[0, 0] != 0).nonzero(as_tuple=True)
    y0, x0 = draw.patch_field(row, col)
    assert (int(ys.min()), int(xs.min())) == (y0, x0), "the drawn square is not where the score's field starts"
    assert int(ys.max()) - y0 + 1 == draw.PATCH_FIELD and int(xs.max()) - x0 + 1 == draw.PATCH_FIELD


def test_the_loss_layers_are_notebook_09s():
    from utils import faststyle

    assert draw.STYLE_LAYERS == tuple(faststyle.STYLE_LAYERS) and draw.CONTENT_LAYER == faststyle.CONTENT_LAYER


def test_the_gram_matrix_is_f_ft_over_chw():
    from utils import perceptual

    f = torch.randn(1, 4, 3, 3)
    flat = f.reshape(4, 9)
    assert torch.allclose(perceptual.gram_matrix(f)[0], flat @ flat.T / (4 * 3 * 3), atol=1e-6)
