import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import utils  # noqa: E402
from utils import data, losses, models, settings, train, viz  # noqa: E402


def test_pick_and_quick_mode(monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert settings.quick_mode() and utils.pick(learner=100, quick=3) == 3
    monkeypatch.setenv("COURSE_QUICK", "0")
    assert not settings.quick_mode() and utils.pick(learner=100, quick=3) == 100


def test_device_override(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert settings.device() == torch.device("cpu")
    monkeypatch.delenv("COURSE_DEVICE")
    assert settings.device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_seed_everything_rejects_non_int():
    with pytest.raises(TypeError):
        utils.seed_everything(1.5)


def test_timer_prints(capsys):
    with utils.timer("block") as t:
        pass
    assert t["seconds"] >= 0 and "block:" in capsys.readouterr().out


def run(seed: int, steps: int = 20, **kw):
    g = utils.seed_everything(seed, threads=1)
    mix = data.ring()
    G, D = models.mlp_generator(), models.mlp_discriminator()
    calls = []
    h = train.train_gan(
        G,
        D,
        mix.sampler(g),
        steps=steps,
        z_dim=2,
        batch_size=32,
        log_every=5,
        callback=lambda s, g_, d_: calls.append(s),
        callback_every=10,
        device=torch.device("cpu"),
        **kw,
    )
    return h, calls, G


def test_train_gan_history_callbacks_and_reproducibility(capsys):
    h1, calls, _ = run(0)
    h2, _, _ = run(0)
    h3, _, _ = run(1)
    assert h1.step == [5, 10, 15, 20] and len(h1.d_loss) == len(h1.g_loss) == 4
    assert calls == [0, 10, 20]
    assert h1.d_loss == h2.d_loss and h1.g_loss == h2.g_loss
    assert h1.d_loss != h3.d_loss
    assert h1.seconds > 0 and "20 steps in" in capsys.readouterr().out


def test_gan_step_updates_both_players():
    utils.seed_everything(0, threads=1)
    G, D = models.mlp_generator(), models.mlp_discriminator()
    g0 = [p.clone() for p in G.parameters()]
    d0 = [p.clone() for p in D.parameters()]
    opt_g, opt_d = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    ld, lg = train.gan_step(G, D, opt_g, opt_d, data.ring().sample(16)[0], 2)
    assert not ld.requires_grad and not lg.requires_grad
    assert all(not torch.equal(a, b) for a, b in zip(g0, G.parameters()))
    assert all(not torch.equal(a, b) for a, b in zip(d0, D.parameters()))


def test_train_gan_learns_something_on_the_ring():
    h, _, G = run(0, steps=300, lr=1e-3)
    mix = data.ring()
    with torch.no_grad():
        d = torch.cdist(G(torch.randn(500, 2)), mix.modes).min(1).values.mean()
    assert d < 0.5


def test_train_gan_rejects_bad_steps():
    with pytest.raises(ValueError, match="steps"):
        train.train_gan(models.mlp_generator(), models.mlp_discriminator(), data.ring().sampler(), 0, 2)


def test_snapshots_and_plots():
    utils.seed_everything(0, threads=1)
    mix = data.ring()
    G, D = models.mlp_generator(), models.mlp_discriminator()
    snaps = train.Snapshots2D(torch.randn(50, 2), mix.extent(), resolution=16)
    snaps(0, G, D)
    frame = snaps.frames[0]
    assert frame["samples"].shape == (50, 2) and frame["surface"].shape == (16, 16)
    assert 0 <= frame["surface"].min() and frame["surface"].max() <= 1
    fig = viz.plot_snapshots(snaps.frames * 3, mix.modes, mix.extent(), ncols=2)
    assert len([ax for ax in fig.axes if ax.axison]) == 3
    with pytest.raises(ValueError, match="no snapshots"):
        viz.plot_snapshots([], mix.modes, mix.extent())
    ax = viz.plot_2d(frame["samples"], mix.modes, frame["surface"], mix.extent(), colorbar=True)
    assert ax.get_xlabel() == "$x_1$"
    with pytest.raises(ValueError, match="extent"):
        viz.plot_2d(frame["samples"], surface=frame["surface"])
    h = train.History(step=[1, 2], d_loss=[1.0, 0.9], g_loss=[0.7, 0.8])
    assert viz.plot_losses(h).get_xlabel() == "training step"
    plt.close("all")


def test_image_grid_and_bad_images():
    x = data.digits(size=8).tensors[0][:10]
    grid = viz.image_grid(x, nrow=5)
    assert grid.shape[0] == 3 and 0 <= grid.min() and grid.max() <= 1
    viz.show_images(x, nrow=5, title="digits")
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*batch dimension"):
        viz.show_images(x[0])
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        viz.show_images(x * 5)
    with pytest.raises(ValueError, match="channels"):
        viz.show_images(torch.zeros(2, 2, 8, 8))
    plt.close("all")


def test_conditional_gaussian_shapes_and_errors():
    m = models.ConditionalGaussian(n_classes=4)
    mean, log_std = m(torch.tensor([0, 1, 3]))
    assert mean.shape == log_std.shape == (3, 2)
    assert m.sample(torch.tensor([2, 2])).shape == (2, 2)
    with pytest.raises(ValueError, match="int64"):
        m(torch.tensor([0.0, 1.0]))
    assert torch.isfinite(losses.gaussian_nll(torch.zeros(3, 2), mean, log_std))


def test_plot_2d_colours_by_label():
    x, y = data.ring().sample(100)
    ax = viz.plot_2d(x, labels=y)
    assert ax.get_legend() is not None
    with pytest.raises(ValueError, match="one per sample"):
        viz.plot_2d(x, labels=y[:5])
    plt.close("all")


def test_log_means_appends_the_mean_since_the_last_log_and_resets():
    history, sums = train.History(), {"d_loss": 0.0, "g_loss": 0.0, "g_gan": 0.0, "l1": 0.0}
    sums.update(l1=6.0, d_loss=3.0)
    train.log_means(history, sums, 3)  # 3 steps since the start
    sums.update(l1=2.0)
    train.log_means(history, sums, 5)  # 2 steps since the last log
    assert history.step == [3, 5] and history.l1 == [2.0, 1.0] and history.d_loss == [1.0, 0.0]
    assert list(history) == ["step", "d_loss", "g_loss", "g_gan", "l1"] and history["g_gan"] == [0.0, 0.0]
    assert all(v == 0.0 for v in sums.values())
    sums.update(l1=torch.tensor(3.0))  # a loss may stay a tensor until it is logged; the mean is a float
    train.log_means(history, sums, 8)
    assert history.l1[-1] == 1.0 and type(history.l1[-1]) is float


def test_machine_names_threads_cores_and_versions():
    info = settings.machine()
    assert info["threads"] == torch.get_num_threads() and info["torch"] == torch.__version__
    assert "CPU cores" in info["machine"] and "Python" in info["machine"]
