"""Notebook 03's remedies for mode collapse: packing, unrolling, the gradient penalty, minibatch std, the table."""

import math

import pytest
import torch
from torch import nn

import utils
from utils import data, losses, remedies, train


def params(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def changed(before: list[torch.Tensor], module: nn.Module) -> bool:
    """Every weight matrix moved (a critic's output bias gets no gradient: the Wasserstein losses ignore constants)."""
    return all(not torch.equal(a, b) for a, b in zip(before, module.parameters()) if a.dim() > 1)


def unchanged(before: list[torch.Tensor], module: nn.Module) -> bool:
    return all(torch.equal(a, b) for a, b in zip(before, module.parameters()))


# --------------------------------------------------------------------------- packing
def test_pack_groups_consecutive_samples():
    x = torch.arange(12.0).reshape(6, 2)
    assert remedies.pack(x, 2).tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert remedies.pack(x, 3).tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]
    assert torch.equal(remedies.pack(x, 1), x)


def test_pack_rejects_bad_input():
    with pytest.raises(ValueError, match="multiple"):
        remedies.pack(torch.zeros(5, 2), 2)
    with pytest.raises(ValueError, match=r"\(N, d\)"):
        remedies.pack(torch.zeros(4), 2)
    with pytest.raises(ValueError, match="positive"):
        remedies.pack(torch.zeros(4, 2), 0)
    with pytest.raises(TypeError, match="torch.Tensor"):
        remedies.pack([[0.0, 0.0]], 1)


# --------------------------------------------------------------------------- gradient penalty and Wasserstein losses
def linear_critic(w: list[float]) -> nn.Linear:
    critic = nn.Linear(len(w), 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([w]))
        critic.bias.fill_(0.5)
    return critic


def test_gradient_penalty_of_a_linear_critic_is_exact():
    # For f(x) = w.x + b the gradient is w at every point, so the penalty is (|w| - 1)^2 wherever we look.
    critic = linear_critic([3.0, 4.0])
    gp = losses.gradient_penalty(critic, torch.randn(16, 2), torch.randn(16, 2))
    assert gp.item() == pytest.approx(16.0)
    gp.backward()  # differentiable in the critic's parameters: d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|
    assert torch.allclose(critic.weight.grad, torch.tensor([[4.8, 6.4]]))
    unit = losses.gradient_penalty(linear_critic([0.6, 0.8]), torch.randn(8, 2), torch.randn(8, 2))
    assert unit.item() == pytest.approx(0.0, abs=1e-10)


def test_gradient_penalty_looks_between_real_and_fake():
    # f(x) = x_1^2 / 2 has gradient norm |x_1|: 1 at the real (x_1 = 1) and fake (x_1 = -1) points, but |2 eps - 1|
    # in between, so the penalty is E[(|u| - 1)^2] = 1/3 for u ~ U(-1, 1) -- and 0 if it forgot to interpolate.
    torch.manual_seed(0)
    real = torch.tensor([[1.0, 0.0]]).repeat(20000, 1)
    gp = losses.gradient_penalty(lambda x: 0.5 * x[:, :1] ** 2, real, -real)
    assert gp.item() == pytest.approx(1 / 3, abs=0.01)


def test_gradient_penalty_on_images_and_bad_input():
    critic = nn.Sequential(nn.Flatten(), linear_critic([0.0] * 11 + [2.0]))
    images = torch.zeros(3, 3, 2, 2)
    assert losses.gradient_penalty(critic, images, images + 1).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one shape"):
        losses.gradient_penalty(critic, torch.zeros(4, 2), torch.zeros(3, 2))
    with pytest.raises(TypeError, match="torch.Tensor"):
        losses.gradient_penalty(critic, [0.0], torch.zeros(1, 2))


def test_wasserstein_losses():
    real, fake = torch.tensor([[2.0], [4.0]]), torch.tensor([[1.0], [-1.0]])
    assert losses.wasserstein_critic_loss(real, fake).item() == pytest.approx(0.0 - 3.0)
    assert losses.wasserstein_generator_loss(fake).item() == pytest.approx(0.0)
    with pytest.raises(TypeError, match="floating-point"):
        losses.wasserstein_generator_loss(torch.zeros(2, 1, dtype=torch.int64))


# --------------------------------------------------------------------------- minibatch standard deviation
def test_minibatch_std_appends_the_batch_spread():
    h = torch.tensor([[0.0, 1.0, 5.0], [2.0, 1.0, 1.0]])  # per-feature std (population): 1, 0, 2 -> mean 1
    out = remedies.MinibatchStd()(h)
    assert out.shape == (2, 4) and torch.equal(out[:, :3], h)
    assert torch.allclose(out[:, 3], torch.ones(2), atol=1e-4)
    same = remedies.MinibatchStd()(torch.ones(5, 3))
    assert torch.allclose(same[:, 3], torch.zeros(5), atol=1e-3)
    with pytest.raises(ValueError, match="N >= 2"):
        remedies.MinibatchStd()(torch.ones(1, 3))


def test_minibatch_std_discriminator_shape():
    D = remedies.minibatch_std_discriminator(hidden=16, depth=2)
    assert isinstance(D[-2], remedies.MinibatchStd) and D[-1].in_features == 17
    assert D(torch.randn(7, 2)).shape == (7, 1)


# --------------------------------------------------------------------------- steps: who gets updated
def setup(method: str, **kw):
    utils.seed_everything(0, threads=1)
    G, D, step, train_kwargs = remedies.make(method, hidden=16, depth=2, **kw)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    real = data.ring().sample(train_kwargs["batch_size"])[0]
    return G, D, step, train_kwargs, opt_g, opt_d, real


@pytest.mark.parametrize("method", list(remedies.METHODS))
def test_every_step_updates_both_players(method):
    G, D, step, kw, opt_g, opt_d, real = setup(method, batch_size=16)
    g0, d0 = params(G), params(D)
    loss_d, loss_g = step(G, D, opt_g, opt_d, real, 2, kw["g_loss"], kw["d_loss"])
    assert loss_d.shape == loss_g.shape == () and not loss_d.requires_grad and not loss_g.requires_grad
    assert changed(g0, G) and changed(d0, D)


def test_wgan_gp_takes_n_critic_critic_steps_per_generator_step():
    G, D, step, kw, opt_g, opt_d, real = setup("WGAN-GP", n_critic=5, batch_size=8)
    assert kw["batch_size"] == 40 and kw["betas"] == remedies.WGAN_BETAS
    step(G, D, opt_g, opt_d, real[:40], 2, kw["g_loss"], kw["d_loss"])
    assert opt_d.state[next(D.parameters())]["step"] == 5 and opt_g.state[next(G.parameters())]["step"] == 1
    with pytest.raises(ValueError, match="n_critic"):
        step(G, D, opt_g, opt_d, torch.cat([real, real[:1]]), 2, kw["g_loss"], kw["d_loss"])


def test_packed_discriminator_sees_packs():
    G, D, step, kw, opt_g, opt_d, real = setup("PacGAN", m=4, batch_size=64)
    assert D[0].in_features == 8
    seen = []
    D.register_forward_hook(lambda mod, inp, out: seen.append(tuple(inp[0].shape)))
    step(G, D, opt_g, opt_d, real[:8], 2, kw["g_loss"], kw["d_loss"])
    assert seen == [(2, 8), (2, 8), (2, 8)]


def test_unrolling_leaves_the_real_discriminator_unchanged():
    G, D, step, kw, opt_g, opt_d, real = setup("unrolled")
    d0 = params(D)
    fake = G(torch.randn(len(real), 2))
    ahead = remedies.unroll(D, real, fake, k=3, lr=0.1)
    assert unchanged(d0, D) and all(p.grad is None for p in D.parameters())
    assert set(ahead) == {name for name, _ in D.named_parameters()}
    assert any(not torch.equal(ahead[name], p) for name, p in D.named_parameters())
    # The unrolled parameters depend on the fakes, so G's loss through them reaches G's parameters.
    loss = kw["g_loss"](torch.func.functional_call(D, ahead, (fake,)))
    grads = torch.autograd.grad(loss, list(G.parameters()))
    assert all(torch.isfinite(g).all() for g in grads) and any(g.abs().sum() > 0 for g in grads)


def test_zero_unrolling_steps_give_the_plain_generator_loss():
    G, D, step, kw, opt_g, opt_d, real = setup("unrolled")
    fake = G(torch.randn(len(real), 2))
    ahead = remedies.unroll(D, real, fake, k=0, lr=0.1)
    assert torch.allclose(torch.func.functional_call(D, ahead, (fake,)), D(fake))


# --------------------------------------------------------------------------- annealing
def test_anneal_takes_the_learning_rates_down_to_zero():
    seen = []

    def record(G, D, opt_g, opt_d, *args):
        seen.append((opt_g.param_groups[0]["lr"], opt_d.param_groups[0]["lr"]))
        return torch.zeros(()), torch.zeros(())

    w = nn.Parameter(torch.zeros(1))
    opt_g, opt_d = torch.optim.Adam([w], lr=1.0), torch.optim.Adam([w], lr=0.1)
    step = remedies.anneal(record, steps=10, start=0.5)
    for _ in range(10):
        step(None, None, opt_g, opt_d)
    assert [g for g, _ in seen] == pytest.approx([1, 1, 1, 1, 1, 1, 0.8, 0.6, 0.4, 0.2])
    assert seen[-1][1] == pytest.approx(0.02)
    with pytest.raises(ValueError, match="start"):
        remedies.anneal(record, 10, start=1.0)


# --------------------------------------------------------------------------- the method table
@pytest.mark.parametrize("method", list(remedies.METHODS))
def test_make_builds_networks_that_train_gan_can_train(method, capsys):
    G, D, step, kw = remedies.make(method, hidden=16, depth=2, batch_size=32, steps=3)
    assert G(torch.randn(5, 2)).shape == (5, 2)
    mix = data.ring()
    snaps = train.Snapshots2D(torch.randn(20, 2), mix.extent(), resolution=8)
    history = train.train_gan(
        G,
        D,
        mix.sampler(),
        3,
        2,
        step_fn=step,
        device=torch.device("cpu"),
        log_every=1,
        callback=lambda s, g, d: snaps(s, g, remedies.surface_view(method, d)),
        callback_every=1,
        **kw,
    )
    assert history.step == [1, 2, 3] and all(math.isfinite(v) for v in history.d_loss + history.g_loss)
    assert [f["step"] for f in snaps.frames] == [0, 1, 2, 3]
    assert all(f["samples"].shape == (20, 2) and f["surface"].shape == (8, 8) for f in snaps.frames)
    assert all(0 <= f["surface"].min() and f["surface"].max() <= 1 for f in snaps.frames)


def test_surface_views():
    D = remedies.make("PacGAN", m=4)[1]
    assert remedies.surface_view("PacGAN", D, m=4)(torch.randn(3, 2)).shape == (3, 1)
    critic = remedies.make("WGAN-GP")[1]
    centred = remedies.surface_view("WGAN-GP", critic)(torch.randn(50, 2))
    assert centred.shape == (50, 1) and abs(centred.mean().item()) < 1e-5
    assert remedies.surface_view("baseline", critic) is critic


def test_make_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown method"):
        remedies.make("DCGAN")
    with pytest.raises(TypeError, match="str"):
        remedies.make(3)
    with pytest.raises(ValueError, match="multiple"):
        remedies.make("PacGAN", batch_size=255, m=2)
    with pytest.raises(ValueError, match="hidden"):
        remedies.make("baseline", hidden=0)


def test_train_runs_returns_frames_keyed_by_dataset_and_method(capsys):
    runs, histories = remedies.train_runs(
        ["plain", "PacGAN"], datasets=["ring", "grid"], steps=4, frames=2, n_samples=30, resolution=6, seed=0
    )
    assert set(runs) == set(histories) == {(d, m) for d in ("ring", "grid") for m in ("plain", "PacGAN")}
    for frames in runs.values():
        assert [f["step"] for f in frames] == [0, 2, 4]
        assert all(set(f) == {"step", "samples", "surface"} for f in frames)
        assert frames[-1]["samples"].shape == (30, 2) and frames[-1]["surface"].shape == (6, 6)
    again, _ = remedies.train_runs(["plain"], datasets=["ring"], steps=4, frames=2, n_samples=30, resolution=6, seed=0)
    assert torch.equal(again[("ring", "plain")][-1]["samples"], runs[("ring", "plain")][-1]["samples"])
    with pytest.raises(ValueError, match="dataset"):
        remedies.train_runs(["plain"], datasets=["moons"], steps=2)
