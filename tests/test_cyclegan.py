"""Tests for utils.cyclegan (notebook 07): generator shapes, the losses, the history pool, the schedule, the step."""

import math

import pytest
import torch
from torch import nn

from utils import cyclegan as cg
from utils import data, pix2pix
from utils.course import checkpoints


def small_nets(channels: int = 1) -> cg.CycleGAN:
    torch.manual_seed(0)
    return cg.CycleGAN(
        cg.resnet_generator(channels, channels, width=4, n_blocks=1, n_down=1),
        cg.resnet_generator(channels, channels, width=4, n_blocks=1, n_down=1),
        cg.cyclegan_discriminator(channels, width=4, n_layers=1),
        cg.cyclegan_discriminator(channels, width=4, n_layers=1),
    )


@pytest.mark.parametrize("n_down,size", [(0, 8), (1, 16), (2, 16), (2, 32)])
def test_resnet_generator_keeps_the_size_and_range(n_down, size):
    g = cg.resnet_generator(3, 1, width=8, n_blocks=2, n_down=n_down)
    y = g(torch.randn(2, 3, size, size))
    assert y.shape == (2, 1, size, size)
    assert y.abs().max() <= 1


def test_resnet_generator_reference_layout():
    g = cg.resnet_generator(3, 3, width=64, n_blocks=9)
    blocks = [m for m in g if isinstance(m, cg.ResnetBlock)]
    assert len(blocks) == 9 and blocks[0].body[1].in_channels == 256  # 9 blocks at 256 channels (d128, d256)
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in g.modules()) == 3 + 2 * 9 + 2
    # The official 9-block generator has 11,378,179 parameters; it keeps a bias before each instance norm, which the
    # norm's mean subtraction cancels exactly. Ours drops those 5,248 dead parameters (64+128+256 + 18*256 + 128+64).
    assert sum(p.numel() for p in g.parameters()) == 11_378_179 - 5_248


def test_resnet_block_is_residual():
    block = cg.ResnetBlock(4)
    nn.init.zeros_(block.body[-2].weight)  # zero the last conv: the block must then be the identity
    x = torch.randn(2, 4, 5, 5)
    assert torch.allclose(block(x), x)


def test_bad_generator_arguments():
    with pytest.raises(ValueError, match="norm"):
        cg.resnet_generator(norm="group")
    with pytest.raises(ValueError, match="n_down"):
        cg.resnet_generator(n_down=-1)
    with pytest.raises(ValueError, match="width"):
        cg.resnet_generator(width=0)


def test_discriminator_is_an_instance_norm_patchgan():
    d = cg.cyclegan_discriminator(3)
    assert pix2pix.receptive_field(d) == 70
    assert any(isinstance(m, nn.InstanceNorm2d) for m in d.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())
    assert d(torch.randn(1, 3, 256, 256)).shape == (1, 1, 30, 30)


def test_lsgan_losses_by_hand():
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])
    # 0.5 * [((0)^2 + (-1)^2) / 2 + (0^2 + 2^2) / 2] = 0.5 * (0.5 + 2) = 1.25
    assert math.isclose(cg.lsgan_discriminator_loss(real, fake).item(), 1.25)
    assert math.isclose(cg.lsgan_generator_loss(fake).item(), ((0 - 1) ** 2 + (2 - 1) ** 2) / 2)
    assert cg.lsgan_discriminator_loss(torch.ones(3), torch.zeros(3)).item() == 0


def test_cycle_and_identity_losses_count_both_directions():
    a, b = torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 2, 2)
    assert cg.cycle_loss(a, a + 0.5, b, b).item() == 0.5
    assert cg.cycle_loss(a, a, b, b - 0.25).item() == 0.25
    assert cg.identity_loss(a, a + 1, b, b + 2).item() == 3


def test_image_pool_fills_then_swaps_half_the_time():
    pool = cg.ImagePool(size=4, seed=0)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # filling: every image comes straight back
    returned_old, n = 0, 2000
    for i in range(n):
        new = torch.full((1, 1, 1, 1), 100.0 + i)
        out = pool.query(new)
        returned_old += int(out.item() != new.item())
        assert len(pool.images) == 4
    assert abs(returned_old / n - 0.5) < 0.05  # an old image half the time
    assert {float(x) for x in pool.images} != {0.0, 1.0, 2.0, 3.0}  # and the new ones went in
    assert torch.equal(cg.ImagePool(0).query(first), first)  # size 0: no pool


def test_image_pool_stores_detached_copies():
    pool = cg.ImagePool(2)
    x = torch.zeros(2, 1, 1, 1, requires_grad=True)
    pool.query(x * 1)
    assert all(not img.requires_grad for img in pool.images)
    with pytest.raises(ValueError):
        cg.ImagePool(-1)


def test_linear_decay():
    f = cg.linear_decay(100, 50)
    assert f(0) == 1 and f(50) == 1 and f(75) == 0.5 and f(100) == 0
    with pytest.raises(ValueError):
        cg.linear_decay(100, 100)


def test_step_trains_all_four_nets_and_reports_losses():
    nets = small_nets()
    opt_g = torch.optim.Adam(nets.generators(), lr=1e-3)
    opt_d = torch.optim.Adam(nets.discriminators(), lr=1e-3)
    before = [p.clone() for net in (nets.g_ab, nets.g_ba, nets.d_a, nets.d_b) for p in net.parameters()]
    a, b = torch.rand(4, 1, 8, 8) * 2 - 1, torch.rand(4, 1, 8, 8) * 2 - 1
    logs = cg.cyclegan_step(nets, opt_g, opt_d, a, b, cg.ImagePool(50), cg.ImagePool(50))
    assert set(logs) == {"d_a", "d_b", "g_gan", "cycle", "identity"}
    assert all(v.dim() == 0 and not v.requires_grad for v in logs.values())
    after = [p for net in (nets.g_ab, nets.g_ba, nets.d_a, nets.d_b) for p in net.parameters()]
    changed = [not torch.equal(x, y) for x, y in zip(before, after)]
    assert sum(changed) >= 0.9 * len(changed)
    assert all(p.requires_grad for p in nets.discriminators())  # D unfrozen again after G's update


def test_step_without_cycle_drops_cycle_and_identity_from_g():
    """lambda_cycle = 0: G's gradient is the adversarial one alone (the identity loss is scaled by lambda_cycle)."""
    a, b = torch.rand(2, 1, 8, 8) * 2 - 1, torch.rand(2, 1, 8, 8) * 2 - 1
    grads = {}
    for lam in (0.0, 10.0):
        nets = small_nets()
        opt_g = torch.optim.SGD(nets.generators(), lr=0.0)
        opt_d = torch.optim.SGD(nets.discriminators(), lr=0.0)
        logs = cg.cyclegan_step(nets, opt_g, opt_d, a, b, cg.ImagePool(0), cg.ImagePool(0), lambda_cycle=lam)
        grads[lam] = torch.cat([p.grad.flatten() for p in nets.generators()])
        if lam == 0:
            assert logs["identity"].item() == 0 and logs["cycle"].item() > 0  # the cycle error is still logged
    nets = small_nets()
    fake_b, fake_a = nets.g_ab(a), nets.g_ba(b)
    gan = cg.lsgan_generator_loss(nets.d_b(fake_b)) + cg.lsgan_generator_loss(nets.d_a(fake_a))
    expected = torch.autograd.grad(gan, nets.generators())
    assert torch.allclose(grads[0.0], torch.cat([g.flatten() for g in expected]), atol=1e-6)
    assert not torch.allclose(grads[10.0], grads[0.0])


def test_train_cyclegan_rejects_negative_loss_weights():
    a = torch.rand(2, 1, 8, 8) * 2 - 1
    for weights in ({"lambda_cycle": -1.0}, {"lambda_identity": -0.5}):
        with pytest.raises(ValueError, match="loss weights must be >= 0"):
            cg.train_cyclegan(small_nets(), a, a, steps=1, device=torch.device("cpu"), **weights)


def test_training_reduces_cycle_error_and_logs():
    torch.manual_seed(0)
    nets = small_nets()
    a = data.digits(8, "train").tensors[0][:64]
    b = -a.flip(-1)
    history = cg.train_cyclegan(nets, a, b, steps=60, batch_size=8, lr=2e-3, log_every=20, device=torch.device("cpu"))
    assert history.step == [20, 40, 60] and len(history.cycle) == 3 and history.seconds > 0
    assert history.cycle[-1] < 0.85 * history.cycle[0]  # 1.06 -> 0.77 with this seed
    assert history.lr[0] == pytest.approx(2e-3, rel=1e-12) and history.lr[-1] < 2e-3  # decayed in the second half
    assert not nets.g_ab.training


def test_image_sampler_walks_every_image_once_per_pass():
    images = torch.arange(10.0).view(10, 1, 1, 1)
    sample = cg.image_sampler(images, seed=0)
    seen = torch.cat([sample(5), sample(5)]).flatten().tolist()
    assert sorted(seen) == list(range(10))
    with pytest.raises(TypeError):
        cg.image_sampler(torch.zeros(3, 4))


def test_translate_batches_and_restores_mode():
    g = cg.resnet_generator(1, 1, width=4, n_blocks=1, n_down=1).train()
    x = torch.randn(5, 1, 8, 8)
    out = cg.translate(g, x, batch_size=2)
    assert out.shape == x.shape and g.training
    with torch.no_grad():
        assert torch.allclose(out, g.eval()(x), atol=1e-6)


def test_checkpoint_round_trip_and_tamper(tmp_path):
    g = cg.resnet_generator(1, 1, width=4, n_blocks=1, n_down=1)
    checkpoints.save_checkpoint(g, "g.pt", tmp_path)
    checkpoints.save_checkpoint(g, "g2.pt", tmp_path)
    checkpoints.save_checkpoint(g, "g.pt", tmp_path)  # saving again replaces its line, keeps the other
    lines = (tmp_path / "SHA256SUMS").read_text().splitlines()
    assert sorted(line.split()[1] for line in lines) == ["g.pt", "g2.pt"]
    h = checkpoints.load_checkpoint(cg.resnet_generator(1, 1, width=4, n_blocks=1, n_down=1), "g.pt", str(tmp_path))
    for p, q in zip(g.parameters(), h.parameters()):
        assert torch.allclose(p, q, atol=1e-3)  # float16 on disk
    blob = bytearray((tmp_path / "g.pt").read_bytes())
    blob[-10] ^= 1
    (tmp_path / "g.pt").write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="altered"):
        checkpoints.verify_checkpoint("g.pt", tmp_path)
    with pytest.raises(ValueError, match="not listed"):
        checkpoints.verify_checkpoint("other.pt", tmp_path)
    (tmp_path / "g2.pt").unlink()
    with pytest.raises(FileNotFoundError, match="missing"):
        checkpoints.verify_checkpoint("g2.pt", tmp_path)
    with pytest.raises(FileNotFoundError, match="SHA256SUMS is missing"):
        checkpoints.verify_checkpoint("g.pt", tmp_path / "elsewhere")


def test_typeset_digits():
    ds = data.typeset_digits(16, 40, seed=3)
    x, y = ds.tensors
    assert x.shape == (40, 1, 16, 16) and x.min() >= -1 and x.max() <= 1
    assert torch.bincount(y).tolist() == [4] * 10
    assert torch.equal(x, data.typeset_digits(16, 40, seed=3).tensors[0])  # deterministic
    assert not torch.equal(x, data.typeset_digits(16, 40, seed=4).tensors[0])
    ink = (x > 0).float().mean()
    assert 0.05 < ink < 0.5  # white strokes on black, like utils.data.digits
    border = torch.cat([x[..., 0, :], x[..., -1, :], x[..., :, 0], x[..., :, -1]], -1)
    assert (border > 0).float().mean() < 0.1  # the digit stays inside the image
    with pytest.raises(ValueError):
        data.typeset_digits(fonts=())
    with pytest.raises(FileNotFoundError):
        data.typeset_digits(n=1, fonts=("NoSuchFont.ttf",))
