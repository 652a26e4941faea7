import math

import pytest
import torch
import torch.nn.functional as F

from utils import data, losses, metrics


def test_discriminator_loss_is_binary_cross_entropy():
    real, fake = torch.randn(64, 1), torch.randn(64, 1)
    bce = F.binary_cross_entropy(torch.sigmoid(real), torch.ones_like(real)) + F.binary_cross_entropy(
        torch.sigmoid(fake), torch.zeros_like(fake)
    )
    assert torch.allclose(losses.discriminator_loss(real, fake), bce, atol=1e-5)


def test_generator_losses():
    fake = torch.randn(64, 1)
    d = torch.sigmoid(fake)
    assert torch.allclose(losses.generator_loss_saturating(fake), torch.log(1 - d).mean(), atol=1e-5)
    assert torch.allclose(losses.generator_loss_nonsaturating(fake), -torch.log(d).mean(), atol=1e-5)
    # stable where the naive formula is not
    assert torch.isfinite(losses.generator_loss_nonsaturating(torch.full((2, 1), -200.0)))


def test_losses_reject_bad_input():
    with pytest.raises(TypeError, match="torch.Tensor"):
        losses.discriminator_loss([0.0], torch.zeros(1))
    with pytest.raises(TypeError, match="floating-point"):
        losses.generator_loss_nonsaturating(torch.zeros(3, 1, dtype=torch.int64))


def test_gaussian_nll_matches_torch_distributions():
    x, mean, log_std = torch.randn(50, 2), torch.randn(50, 2), torch.randn(50, 2) * 0.3
    ref = -torch.distributions.Normal(mean, log_std.exp()).log_prob(x).sum(1).mean()
    assert torch.allclose(losses.gaussian_nll(x, mean, log_std), ref, atol=1e-5)
    with pytest.raises(ValueError, match="one shape"):
        losses.gaussian_nll(x, mean[:3], log_std)


def test_mode_metrics_known_cases():
    mix = data.ring()
    r = metrics.mode_metrics(mix.modes[:3], mix.modes, mix.std)
    assert (r.modes_captured, r.high_quality, r.n_modes) == (3, 1.0, 8)
    assert r.counts.tolist() == [1, 1, 1, 0, 0, 0, 0, 0]
    near = mix.modes[:1] + torch.tensor([[0.0, 2.9 * mix.std]])
    far = mix.modes[1:2] + torch.tensor([[0.0, 3.1 * mix.std]])
    r = metrics.mode_metrics(torch.cat([near, far]), mix.modes, mix.std)
    assert (r.modes_captured, r.high_quality) == (1, 0.5)
    assert "1/8 modes captured, 50.0% high-quality" in str(r)


def test_mode_metrics_on_true_samples():
    mix = data.grid()
    x, _ = mix.sample(50000, torch.Generator().manual_seed(0))
    r = metrics.mode_metrics(x, mix.modes, mix.std)
    assert r.modes_captured == 25 and abs(r.high_quality - (1 - math.exp(-4.5))) < 0.003


def test_mode_metrics_collapsed_generator():
    mix = data.ring()
    x = mix.modes[2].repeat(1000, 1)
    r = metrics.mode_metrics(x, mix.modes, mix.std)
    assert r.modes_captured == 1 and r.counts[2] == 1000


def test_metrics_bad_input():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        metrics.mode_metrics(torch.zeros(10, 3), data.ring().modes, 0.01)
    with pytest.raises(ValueError, match="positive"):
        metrics.mode_metrics(torch.zeros(10, 2), data.ring().modes, 0.0)
    with pytest.raises(TypeError):
        metrics.nearest_mode([[0, 0]], data.ring().modes)


def test_mode_histogram_kl():
    mix = data.ring()
    assert metrics.mode_histogram_kl(mix.modes.repeat(10, 1), mix.modes, mix.std) == pytest.approx(0.0, abs=1e-9)
    assert metrics.mode_histogram_kl(mix.modes[:1].repeat(10, 1), mix.modes, mix.std) == pytest.approx(math.log(8))
    half = metrics.mode_histogram_kl(mix.modes[:4].repeat(10, 1), mix.modes, mix.std)
    assert half == pytest.approx(math.log(2))
    assert metrics.mode_histogram_kl(torch.zeros(5, 2), mix.modes, mix.std) == pytest.approx(math.log(8))


def test_frechet_distance():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(4000, 3, generator=g)
    b = torch.randn(4000, 3, generator=g)
    assert metrics.frechet_distance(a, b) < 0.02
    # mean shift of 2 in every dimension adds 3 * 4 = 12; scaling one dimension by 3 adds (3 - 1)^2 = 4
    shifted = metrics.frechet_distance(a, b + 2)
    assert shifted == pytest.approx(12, rel=0.02)
    scaled = b.clone()
    scaled[:, 0] *= 3
    assert metrics.frechet_distance(a, scaled) == pytest.approx(4, rel=0.05)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="feature sizes"):
        metrics.frechet_distance(a, b[:, :2])
    with pytest.raises(ValueError, match=r"\(N, F\)"):
        metrics.frechet_distance(a[:1], b)


def test_diversity():
    from utils import metrics as m

    x = torch.zeros(3, 1, 2, 2)
    assert m.diversity(x) == 0
    x[1] = 1.0  # distances: |0-1| = 2 (four pixels of 1), |0-0| = 0, |1-0| = 2 -> mean 4/3
    assert abs(m.diversity(x) - 4 / 3) < 1e-9
    with pytest.raises(ValueError):
        m.diversity(torch.zeros(1, 4))
