"""The exercises' checks pass the reference solutions and fail wrong ones (a check that cannot fail is no check)."""
import pytest
import torch
import torch.nn.functional as F

from utils import checks, losses, metrics


def reference_coverage(samples, modes, std):
    r = metrics.mode_metrics(samples, modes, std)
    return r.modes_captured, r.high_quality


def test_reference_solutions_pass(capsys):
    checks.check_discriminator_loss(losses.discriminator_loss)
    checks.check_generator_loss_nonsaturating(losses.generator_loss_nonsaturating)
    checks.check_mode_coverage(reference_coverage)
    assert capsys.readouterr().out.count("✓") == 3


WRONG_D_LOSSES = {
    "swapped real and fake": lambda r, f: F.softplus(r).mean() + F.softplus(-f).mean(),
    "sum instead of mean": lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(),
    "missing the fake term": lambda r, f: F.softplus(-r).mean(),
    "probabilities treated as logits": lambda r, f: -torch.log(r.clamp_min(1e-6)).mean() - torch.log((1 - f).clamp_min(1e-6)).mean(),
    "no gradient (numpy round trip)": lambda r, f: torch.tensor((F.softplus(-r).mean() + F.softplus(f).mean()).item()),
}


@pytest.mark.parametrize("name", WRONG_D_LOSSES)
def test_wrong_discriminator_losses_fail(name):
    with pytest.raises(AssertionError):
        checks.check_discriminator_loss(WRONG_D_LOSSES[name])


WRONG_G_LOSSES = {
    "the saturating loss": losses.generator_loss_saturating,
    "the saturating loss, sign flipped": lambda f: F.softplus(f).mean(),
    "log of sigmoid via probabilities, clipped": lambda f: -torch.log(torch.sigmoid(f).clamp_min(1e-3)).mean(),
    "sum instead of mean": lambda f: F.softplus(-f).sum(),
    "returns a vector": lambda f: F.softplus(-f),
}


@pytest.mark.parametrize("name", WRONG_G_LOSSES)
def test_wrong_generator_losses_fail(name):
    with pytest.raises(AssertionError):
        checks.check_generator_loss_nonsaturating(WRONG_G_LOSSES[name])


def coverage_with(threshold_std: float = 3.0, require_quality: bool = True, squared: bool = False):
    def fn(samples, modes, std):
        d = torch.cdist(samples, modes)
        dist, idx = d.min(1)
        if squared:
            dist = dist**2
        good = dist < threshold_std * std if require_quality else torch.ones_like(dist, dtype=torch.bool)
        captured = len(set(idx[good].tolist()))
        return captured, (dist < threshold_std * std).float().mean().item()
    return fn


@pytest.mark.parametrize("fn", [coverage_with(1.0), coverage_with(2.0), coverage_with(4.0),
                                coverage_with(require_quality=False), coverage_with(squared=True)],
                         ids=["1 std", "2 std", "4 std", "any nearest sample counts", "squared distance"])
def test_wrong_mode_coverage_fails(fn):
    with pytest.raises(AssertionError):
        checks.check_mode_coverage(fn)


def test_right_mode_coverage_written_differently_passes():
    checks.check_mode_coverage(coverage_with(3.0))
