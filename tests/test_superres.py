"""Super-resolution's pieces: LR/HR data and the held-out split, the bicubic baseline, PSNR against hand-computed
values, the sharpness measure, the generator's and the discriminator's shapes, one training step of each kind, and a
short run that learns."""

import math

import pytest
import torch
import torch.nn.functional as F

import utils
from utils import superres


def test_downsample_is_the_block_mean():
    hr = torch.arange(16.0).reshape(1, 1, 4, 4) / 16
    lr = superres.downsample(hr, 2)
    assert lr.shape == (1, 1, 2, 2)
    assert torch.allclose(lr[0, 0], torch.tensor([[2.5, 4.5], [10.5, 12.5]]) / 16)
    with pytest.raises(ValueError, match="multiple"):
        superres.downsample(torch.zeros(1, 3, 10, 10), 4)


def test_crops_are_deterministic_and_the_held_out_photo_is_not_trained_on():
    assert superres.HELD_OUT not in superres.TRAIN_PHOTOS and len(superres.TRAIN_PHOTOS) == len(utils.data.PHOTOS) - 1
    a_lr, a_hr = superres.crop_sampler(32, seed=3)(5)
    b_lr, b_hr = superres.crop_sampler(32, seed=3)(5)
    assert a_lr.shape == (5, 3, 8, 8) and a_hr.shape == (5, 3, 32, 32)
    assert torch.equal(a_hr, b_hr) and torch.equal(a_lr, superres.downsample(a_hr))
    assert a_hr.min() >= -1 and a_hr.max() <= 1
    assert not torch.equal(a_hr, superres.crop_sampler(32, seed=4)(5)[1])
    with pytest.raises(ValueError, match="bundled photos"):
        superres.random_crops(2, 32, photos=("lena",))


def test_tiles_cover_the_held_out_photo():
    lr, hr = superres.tiles(size=64)
    photo = utils.data.bundled_image(superres.HELD_OUT)  # astronaut: 512 x 512 -> 8 x 8 tiles
    assert hr.shape == (64, 3, 64, 64) and lr.shape == (64, 3, 16, 16)
    assert torch.equal(hr[0], photo[:, :64, :64]) and torch.equal(hr[9], photo[:, 64:128, 64:128])


def test_psnr_matches_hand_computed_values():
    x = torch.zeros(2, 3, 4, 4)
    y = torch.full((2, 3, 4, 4), 0.1)  # MSE 0.01 on a range of 2: 10 log10(4 / 0.01) = 26.0206 dB
    assert torch.allclose(superres.psnr(x, y), torch.full((2,), 10 * math.log10(400)), atol=1e-4)
    y[1] = 0.2  # per image, not pooled: image 1 has MSE 0.04
    assert torch.allclose(superres.psnr(x, y), torch.tensor([26.0206, 20.0]), atol=1e-3)
    assert (superres.psnr(x, x) > 100).all()  # identical images: capped, not infinite
    with pytest.raises(ValueError, match="one shape"):
        superres.psnr(x, torch.zeros(2, 3, 4, 5))


def test_sharpness_is_the_mean_gradient_magnitude():
    ramp = torch.arange(5.0).repeat(5, 1).reshape(1, 1, 5, 5) * 0.1  # dx = 0.1 everywhere, dy = 0
    assert math.isclose(superres.sharpness(ramp).item(), 0.1, rel_tol=1e-5)
    _, hr = superres.tiles(size=64)
    blurred = F.avg_pool2d(hr, 3, stride=1, padding=1, count_include_pad=False)
    assert (superres.sharpness(blurred) < superres.sharpness(hr)).all()


def test_bicubic_beats_nearest_on_the_held_out_tiles():
    lr, hr = superres.tiles(size=64)
    nearest = lambda x: F.interpolate(x, scale_factor=4, mode="nearest")  # noqa: E731
    bicubic = superres.evaluate(superres.bicubic_upsample, lr, hr)
    assert bicubic["psnr"] > superres.evaluate(nearest, lr, hr)["psnr"] + 1
    assert bicubic["sharpness"] < 0.7  # bicubic blurs: the truth has far stronger gradients
    up = superres.bicubic_upsample(torch.full((1, 3, 4, 4), 0.99))
    assert up.shape == (1, 3, 16, 16) and up.max() <= 1


def test_generator_and_discriminator_shapes():
    utils.seed_everything(0, threads=1)
    G = superres.SRResNet(width=8, blocks=2)
    lr = torch.rand(2, 3, 8, 8) * 2 - 1
    assert G(lr).shape == (2, 3, 32, 32)
    torch.nn.init.zeros_(G.tail.weight)
    torch.nn.init.zeros_(G.tail.bias)
    assert torch.allclose(G(lr), superres.bicubic_upsample(lr))  # a residual over bicubic
    pair = superres.d_input(lr, torch.zeros(2, 3, 32, 32))
    assert pair.shape == (2, 6, 32, 32) and torch.equal(pair[:, :3], superres.bicubic_upsample(lr))
    assert superres.sr_discriminator(width=8)(pair).shape == (2, 1, 8, 8)


@pytest.mark.parametrize("pixel,adv", [("l2", 0.0), ("l1", 0.0), ("l1", 0.05)])
def test_one_step_changes_the_right_networks(pixel, adv):
    utils.seed_everything(0, threads=1)
    G, D = superres.SRResNet(width=8, blocks=1), superres.sr_discriminator(width=8)
    opt_g, opt_d = torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3)
    g0, d0 = [p.detach().clone() for p in G.parameters()], [p.detach().clone() for p in D.parameters()]
    logs = superres.sr_step(G, D, opt_g, opt_d, superres.crop_sampler(16)(4), pixel, adv)
    assert any(not torch.equal(a, b) for a, b in zip(g0, G.parameters()))
    d_moved = any(not torch.equal(a, b) for a, b in zip(d0, D.parameters()))
    assert d_moved == (adv > 0)
    assert math.isnan(logs["d_loss"]) == (adv == 0) and logs["pixel"] > 0
    with pytest.raises(ValueError, match="pixel"):
        superres.sr_step(G, D, opt_g, opt_d, superres.crop_sampler(16)(4), "l3")


def test_a_short_run_learns_its_training_batch():
    utils.seed_everything(0, threads=1)
    lr, hr = superres.crop_sampler(32, seed=0)(8)
    G = superres.SRResNet(width=16, blocks=2)
    history = superres.train_sr(
        G, lambda n: (lr, hr), steps=300, pixel="l1", batch_size=8, lr=2e-3, log_every=20, device=torch.device("cpu")
    )
    assert history.step[-1] == 300 and history.seconds > 0 and history.pixel[-1] < 0.8 * history.pixel[0]
    assert list(history) == ["step", "pixel", "g_adv", "d_loss"] and math.isnan(history.d_loss[-1])  # no GAN here
    gain = superres.evaluate(G, lr, hr)["psnr"] - superres.evaluate(superres.bicubic_upsample, lr, hr)["psnr"]
    assert gain > 1, f"300 steps on one batch should beat bicubic on it clearly, got {gain:+.2f} dB"
    assert not G.training  # train_sr leaves the model in eval mode
