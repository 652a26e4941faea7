"""The notebooks' own checks can fail: sabotage one piece, run the notebook, and watch the right check fail.

Each case inserts one cell (the sabotage) right after the cell that builds a component, executes the
notebook in quick mode, and expects an AssertionError from the check cell that guards that component.
"""
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]

CASES = {
    "01: a generator that ignores its condition": (
        "notebooks/01_conditional_generative_models.ipynb", "class ConditionalGaussian",
        "_forward = ConditionalGaussian.forward\n"
        "ConditionalGaussian.forward = lambda self, c: _forward(self, torch.zeros_like(c))",
        "assert hit_rate > 0.95"),
    "02: the saturating loss passed off as the non-saturating one": (
        "notebooks/02_gan_from_scratch.ipynb", "def generator_loss_nonsaturating",
        "generator_loss_nonsaturating = generator_loss_saturating",
        "assert grad_ns[0].abs() > 100 * grad_sat[0].abs()"),
    "02: a training step that never updates the generator": (
        "notebooks/02_gan_from_scratch.ipynb", "def gan_step",
        "def _discriminator_only(generator, discriminator, opt_g, opt_d, real, z_dim, g_loss, d_loss):\n"
        "    fake = generator(torch.randn(real.shape[0], z_dim)).detach()\n"
        "    loss_d = d_loss(discriminator(real), discriminator(fake))\n"
        "    opt_d.zero_grad(); loss_d.backward(); opt_d.step()\n"
        "    return loss_d.detach(), g_loss(discriminator(fake)).detach()\n"
        "train.gan_step = _discriminator_only",
        "assert after < 0.5 * before"),
    "02: a discriminator trained with its labels swapped": (
        "notebooks/02_gan_from_scratch.ipynb", "def discriminator_loss",
        "_d_loss = discriminator_loss\n"
        "discriminator_loss = lambda real, fake: _d_loss(fake, real)",
        "assert gap < 0.05"),
}


@pytest.mark.parametrize("case", CASES)
def test_sabotage_makes_the_check_fail(case, monkeypatch):
    path, after, sabotage, check = CASES[case]
    monkeypatch.setenv("COURSE_QUICK", "1")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    nb = nbformat.read(ROOT / path, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and after in c.source)
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell("# sabotage\n" + sabotage))
    target = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and check in c.source)
    # Run only up to the check that should catch it.
    nb.cells = nb.cells[: target + 1]
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str((ROOT / path).parent)}}).execute()
    errors = [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert errors, f"{case}: the notebook ran through; its check did not catch the sabotage"
    first, err = errors[0]
    assert first == target and err.ename == "AssertionError", (
        f"{case}: expected the check in cell {target} to fail, got {err.ename} in cell {first}: {err.evalue}")
