"""pix2pix's pieces: the U-Net (with and without skips), the PatchGAN and its receptive field, the conditional pair,
the losses, one training step in each ablation setting, and a short end-to-end run that learns a fixed mapping."""

import math

import pytest
import torch
from torch import nn

import utils
from utils import pix2pix

CPU = torch.device("cpu")


# --------------------------------------------------------------------------- the U-Net
@pytest.mark.parametrize("size", [8, 32, 64, 128, 256])
def test_unet_shapes_and_range(size):
    utils.seed_everything(0, threads=1)
    G = pix2pix.unet_generator(in_channels=1, out_channels=3, size=size, width=4)
    out = G(torch.rand(2, 1, size, size) * 2 - 1)
    assert out.shape == (2, 3, size, size) and out.min() >= -1 and out.max() <= 1
    assert len(G.down) == len(G.up) == int(math.log2(size))
    x = torch.zeros(2, 1, size, size)
    for block in G.down:
        x = block(x)
    assert x.shape[-2:] == (1, 1)  # the bottleneck is 1x1


def test_unet_layout_follows_the_paper():
    G = pix2pix.unet_generator(size=256, width=2)
    convs = [block[0] for block in G.down]
    assert [c.out_channels for c in convs] == [2, 4, 8, 16, 16, 16, 16, 16]  # C64-C128-C256-C512-C512-... / 32
    assert all(c.kernel_size == (4, 4) and c.stride == (2, 2) for c in convs)
    has_bn = [any(isinstance(m, nn.BatchNorm2d) for m in block) for block in G.down]
    assert has_bn == [False] + [True] * 6 + [False]  # none on the first layer nor on the 1x1 bottleneck
    assert all(isinstance(block[-1], nn.LeakyReLU) and block[-1].negative_slope == 0.2 for block in G.down)
    drops = [[m.p for m in block if isinstance(m, nn.Dropout)] for block in G.up]
    assert drops == [[0.5]] * 3 + [[]] * 5  # dropout (the noise z) in the first three decoder blocks only
    assert isinstance(G.up[-1][-1], nn.Tanh) and G.up[-1][0].out_channels == 3
    ups = [block[0] for block in G.up]
    assert [u.in_channels for u in ups] == [16, 32, 32, 32, 32, 16, 8, 4]  # doubled by the skips after the first
    assert not any(isinstance(m, nn.Dropout) for m in pix2pix.unet_generator(size=32, width=2, dropout=0.0).modules())


def test_unet_init_is_pix2pix():
    torch.manual_seed(0)
    G = pix2pix.unet_generator(size=64, width=32)
    w = G.down[2][0].weight.detach()
    assert abs(float(w.std()) - 0.02) < 0.002 and abs(float(w.mean())) < 0.002


@pytest.mark.parametrize("size", [0, 4, 48, 100])
def test_unet_rejects_sizes_it_cannot_build(size):
    with pytest.raises(ValueError, match="size"):
        pix2pix.unet_generator(size=size)


def test_unet_rejects_inputs_of_the_wrong_size():
    G = pix2pix.unet_generator(size=32, width=4)
    with pytest.raises(ValueError, match="32, 32"):
        G(torch.zeros(1, 3, 64, 64))
    with pytest.raises(ValueError, match="32, 32"):
        G(torch.zeros(3, 32, 32))


def _output_with_fixed_bottleneck(G, a, bottleneck):
    """G(a) with the bottleneck's output replaced by ``bottleneck``: only skips can carry anything else of a."""
    handle = G.down[-1].register_forward_hook(lambda module, inputs, output: bottleneck)
    try:
        return G(a)
    finally:
        handle.remove()


@pytest.mark.parametrize("skips", [False, True])
def test_without_skips_everything_goes_through_the_bottleneck(skips):
    utils.seed_everything(0, threads=1)
    G = pix2pix.unet_generator(size=32, width=4, skips=skips).eval()
    a1, a2 = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    bottleneck = torch.randn(2, G.down[-1][0].out_channels, 1, 1)
    out1, out2 = (_output_with_fixed_bottleneck(G, a, bottleneck) for a in (a1, a2))
    if skips:
        assert (
            out1 - out2
        ).abs().max() > 1e-3  # the skips carry the input around the bottleneck (so the test can see leaks)
    else:
        assert torch.equal(out1, out2)  # nothing of a reaches the output except through the 1x1 bottleneck
        assert all(block[0].in_channels == G.down[-2 - j][0].out_channels for j, block in enumerate(G.up[1:]))


def test_skip_connection_concatenates_decoder_then_encoder():
    d, e = torch.ones(2, 3, 4, 4), torch.zeros(2, 5, 4, 4)
    out = pix2pix.skip_connection(d, e)
    assert out.shape == (2, 8, 4, 4) and torch.equal(out[:, :3], d) and torch.equal(out[:, 3:], e)
    with pytest.raises(ValueError, match="differ"):
        pix2pix.skip_connection(d, torch.zeros(2, 5, 2, 2))


def test_translate_keeps_dropout_on_and_restores_the_model():
    utils.seed_everything(0, threads=1)
    G = pix2pix.unet_generator(size=32, width=8)
    G(torch.rand(4, 3, 32, 32))  # move the running statistics off their start
    before = {k: v.clone() for k, v in G.state_dict().items()}
    a = torch.rand(2, 3, 32, 32) * 2 - 1
    noisy = [pix2pix.translate(G, a) for _ in range(2)]
    assert not torch.equal(noisy[0], noisy[1])  # dropout at test time: the noise z
    plain = [pix2pix.translate(G, a, dropout=False, batch_stats=False) for _ in range(2)]
    assert torch.equal(plain[0], plain[1])
    assert torch.equal(plain[0], G.eval()(a).detach())
    G.train()
    no_drop = pix2pix.translate(G, a, dropout=False)
    assert torch.equal(no_drop, pix2pix.translate(G, a, dropout=False)) and not torch.equal(no_drop, plain[0])
    assert G.training and all(m.training for m in G.modules()) and not noisy[0].requires_grad
    assert all(torch.equal(before[k], v) for k, v in G.state_dict().items())  # running statistics untouched


# --------------------------------------------------------------------------- the PatchGAN
@pytest.mark.parametrize("n_layers,field", [(1, 16), (2, 34), (3, 70), (4, 142)])
def test_receptive_field_of_the_patchgan(n_layers, field):
    D = pix2pix.patchgan_discriminator(width=4, n_layers=n_layers)
    assert pix2pix.receptive_field(D) == field
    assert pix2pix.receptive_field(list(D)) == field


def test_receptive_field_from_pairs_and_other_layers():
    assert pix2pix.receptive_field([]) == 1
    assert pix2pix.receptive_field([(3, 1)] * 3) == 7
    assert pix2pix.receptive_field([(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)]) == 70
    assert pix2pix.receptive_field([(7, 2), (3, 2)]) == 11
    layers = nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2), nn.ReLU(), nn.MaxPool2d(2), nn.BatchNorm2d(1))
    assert pix2pix.receptive_field(layers) == 6  # dilated 3x3 covers 5 pixels; the 2x2 pool adds one more step
    with pytest.raises(ValueError, match="ConvTranspose2d"):
        pix2pix.receptive_field([nn.ConvTranspose2d(1, 1, 4)])
    with pytest.raises(TypeError, match="kernel, stride"):
        pix2pix.receptive_field([(4, 2, 1)])


def test_receptive_field_matches_the_gradient_footprint():
    """One logit depends on exactly a 70 x 70 window of the input: its gradient is non-zero there and nowhere else."""
    torch.manual_seed(0)
    D = pix2pix.patchgan_discriminator(in_channels=1, width=2).eval()  # eval: batch norm does not mix pixels
    x = torch.randn(1, 1, 128, 128, requires_grad=True)
    logits = D(x)
    logits[0, 0, 6, 6].backward()
    rows, cols = (x.grad[0, 0].abs() > 0).nonzero(as_tuple=True)
    assert int(rows.max() - rows.min()) + 1 == 70 and int(cols.max() - cols.min()) + 1 == 70


@pytest.mark.parametrize("size,n_layers", [(256, 3), (128, 3), (64, 3), (32, 3), (64, 1), (70, 2)])
def test_patch_output_size_matches_the_model(size, n_layers):
    D = pix2pix.patchgan_discriminator(in_channels=6, width=4, n_layers=n_layers)
    out = D(torch.zeros(1, 6, size, size))
    assert out.shape == (1, 1, pix2pix.patch_output_size(size, n_layers), pix2pix.patch_output_size(size, n_layers))
    assert pix2pix.patch_output_size(256) == 30


def test_patchgan_layout_follows_the_paper():
    D = pix2pix.patchgan_discriminator()
    convs = [m for m in D if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.stride[0]) for c in convs] == [
        (6, 64, 2),
        (64, 128, 2),
        (128, 256, 2),
        (256, 512, 1),
        (512, 1, 1),
    ]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in D) == 3 and not isinstance(D[1], nn.BatchNorm2d)
    with pytest.raises(ValueError, match="too small"):
        pix2pix.patch_output_size(8)


# --------------------------------------------------------------------------- the conditional pair and the losses
def test_conditional_pair_is_input_then_output():
    a, b = torch.zeros(2, 1, 8, 8), torch.ones(2, 3, 8, 8)
    pair = pix2pix.conditional_pair(a, b)
    assert pair.shape == (2, 4, 8, 8) and torch.equal(pair[:, :1], a) and torch.equal(pair[:, 1:], b)
    with pytest.raises(ValueError, match="one N, H and W"):
        pix2pix.conditional_pair(a, torch.ones(2, 3, 4, 4))
    with pytest.raises(TypeError):
        pix2pix.conditional_pair(a, b.numpy())


def test_generator_loss_terms_and_flags():
    logits = torch.zeros(2, 1, 3, 3)
    fake, target = torch.full((2, 3, 4, 4), 0.5), torch.zeros(2, 3, 4, 4)
    total, gan, l1 = pix2pix.pix2pix_generator_loss(logits, fake, target)
    assert math.isclose(float(gan), math.log(2), rel_tol=1e-6) and math.isclose(float(l1), 0.5)
    assert math.isclose(float(total), math.log(2) + 50, rel_tol=1e-6)
    total, gan, l1 = pix2pix.pix2pix_generator_loss(None, fake, target, use_gan=False)
    assert float(total) == 50 and float(gan) == 0
    total, _, l1 = pix2pix.pix2pix_generator_loss(logits, fake, target, use_l1=False)
    assert math.isclose(float(total), math.log(2), rel_tol=1e-6) and float(l1) == 0.5  # L1 still reported
    with pytest.raises(ValueError, match="nothing to train"):
        pix2pix.pix2pix_generator_loss(logits, fake, target, use_gan=False, use_l1=False)
    with pytest.raises(ValueError, match="one shape"):
        pix2pix.pix2pix_generator_loss(logits, fake, target[:, :1])


def test_discriminator_loss_is_halved():
    r, f = torch.zeros(2, 1, 3, 3), torch.zeros(2, 1, 3, 3)
    assert math.isclose(float(pix2pix.pix2pix_discriminator_loss(r, f)), math.log(2), rel_tol=1e-6)


# --------------------------------------------------------------------------- training
def _setup(size=32, width=4, conditional=True):
    G = pix2pix.unet_generator(size=size, width=width)
    D = pix2pix.patchgan_discriminator(in_channels=6 if conditional else 3, width=width)
    return G, D, torch.optim.Adam(G.parameters(), 2e-4), torch.optim.Adam(D.parameters(), 2e-4)


@pytest.mark.parametrize(
    "setting",
    [dict(), dict(use_gan=False), dict(use_l1=False), dict(conditional=False)],
    ids=["L1 + cGAN", "L1 only", "cGAN only", "GAN + L1 (unconditional D)"],
)
def test_step_in_every_ablation_setting(setting):
    utils.seed_everything(0, threads=1)
    G, D, opt_g, opt_d = _setup(conditional=setting.get("conditional", True))
    d_before = [p.clone() for p in D.parameters()]
    batch = (torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1)
    logs = pix2pix.pix2pix_step(G, D, opt_g, opt_d, batch, **setting)
    assert set(logs) == {"d_loss", "g_loss", "g_gan", "l1"} and all(isinstance(v, float) for v in logs.values())
    d_moved = any(not torch.equal(p, q) for p, q in zip(d_before, D.parameters()))
    if setting.get("use_gan", True):
        assert d_moved and math.isfinite(logs["d_loss"])
    else:
        assert (
            not d_moved and math.isnan(logs["d_loss"]) and math.isclose(logs["g_loss"], 100 * logs["l1"], rel_tol=1e-5)
        )
    if not setting.get("use_l1", True):
        assert math.isclose(logs["g_loss"], logs["g_gan"], rel_tol=1e-5)


def test_l1_only_needs_no_discriminator():
    G = pix2pix.unet_generator(size=32, width=4)
    batch = (torch.zeros(1, 3, 32, 32), torch.zeros(1, 3, 32, 32))
    pix2pix.pix2pix_step(G, None, torch.optim.Adam(G.parameters()), None, batch, use_gan=False)
    with pytest.raises(ValueError, match="discriminator"):
        pix2pix.pix2pix_step(G, None, torch.optim.Adam(G.parameters()), None, batch)


def test_pair_sampler_walks_every_pair_each_epoch():
    A, B = torch.arange(5.0).reshape(5, 1), torch.arange(5.0).reshape(5, 1) * 10
    for data in ((A, B), torch.utils.data.TensorDataset(A, B), [(a, b) for a, b in zip(A, B)]):
        if isinstance(data, list):
            data = torch.utils.data.Subset(torch.utils.data.TensorDataset(A, B), range(5))
        sample = pix2pix.pair_sampler(data)
        a, b = sample(5)
        assert sorted(a.flatten().tolist()) == [0, 1, 2, 3, 4] and torch.equal(b, a * 10)
    with pytest.raises(TypeError, match="sampler"):
        pix2pix.pair_sampler(A)
    with pytest.raises(ValueError, match="same"):
        pix2pix.pair_sampler((A, B[:3]))


def test_training_reduces_l1_on_a_fixed_mapping(capsys):
    """A few dozen steps of L1 + cGAN learn a fixed colour mapping of 4 pairs (b = a with channels reversed, darker)."""
    utils.seed_everything(0, threads=1)
    a = torch.rand(4, 3, 4, 4).repeat_interleave(8, 2).repeat_interleave(8, 3) * 2 - 1  # blocky 32 x 32 images
    b = a.flip(1) * 0.8
    G, D = pix2pix.unet_generator(size=32, width=8), pix2pix.patchgan_discriminator(width=8)
    start = float((pix2pix.translate(G, a, dropout=False) - b).abs().mean())
    seen = []
    history = pix2pix.train_pix2pix(
        G,
        D,
        (a, b),
        steps=60,
        batch_size=2,
        lr=1e-3,
        log_every=10,
        callback=lambda step, g, d: seen.append(step),
        callback_every=30,
        device=CPU,
        desc="tiny pix2pix",
    )
    end = float((pix2pix.translate(G, a, dropout=False) - b).abs().mean())
    assert history.step == [10, 20, 30, 40, 50, 60] and len(history.l1) == len(history.d_loss) == 6
    assert seen == [0, 30, 60]
    assert history.l1[-1] < 0.6 * history.l1[0] and end < 0.6 * start, (history.l1, start, end)
    assert "tiny pix2pix: 60 steps in" in capsys.readouterr().out and history.seconds > 0
