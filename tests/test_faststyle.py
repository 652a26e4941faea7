"""Fast style transfer (utils.faststyle): the transformation network's shapes and range, its refusals, no transposed
convolutions, training that lowers the perceptual loss, determinism, and the checkpoint round trip."""

import pytest
import torch
from torch import nn

import utils
from utils import faststyle, perceptual
from utils.course import checkpoints

LAYERS = ("relu1_2", "relu2_2")  # a shallow loss network keeps the training tests fast


@pytest.fixture(scope="module")
def loss_net():
    return perceptual.vgg_features("vgg16", LAYERS, weights="random")


def tiny_run(loss_net, seed=0, steps=30):
    utils.seed_everything(seed, threads=1)
    net = faststyle.TransformNet(width=8, n_blocks=1)
    style = faststyle.style_image("flower", 32)
    history = faststyle.train_fast_style(
        net,
        loss_net,
        style,
        faststyle.content_sampler(32, seed=seed),
        steps,
        batch_size=2,
        lr=3e-3,
        style_weight=1.0,
        tv_weight=1.0,
        style_layers=LAYERS,
        log_every=10,
        device=torch.device("cpu"),
    )
    return net, history


def test_shapes_and_output_range():
    torch.manual_seed(0)
    net = faststyle.TransformNet(width=8, n_blocks=2)
    x = torch.rand(2, 3, 32, 48) * 2 - 1
    out = net(x)
    assert out.shape == x.shape
    assert out.abs().max() <= 1
    assert net(100 * x).abs().max() <= 1  # tanh bounds the output whatever the input
    assert net.down(x).shape == (2, 32, 8, 12)  # 4 x width channels at a quarter of the resolution


def test_johnson_sizes():
    net = faststyle.TransformNet()  # width 32: 32/64/128 channels, 5 residual blocks
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert [c.kernel_size[0] for c in convs[:3]] == [9, 3, 3] and [c.stride[0] for c in convs[:3]] == [1, 2, 2]
    assert convs[-1].kernel_size == (9, 9) and convs[-1].out_channels == 3
    assert len(net.blocks) == 5 and net.blocks[0].body[0][1].in_channels == 128
    assert all(m.affine for m in net.modules() if isinstance(m, nn.InstanceNorm2d))
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in net.modules())
    assert any(isinstance(m, nn.Upsample) and m.mode == "nearest" for m in net.modules())


@pytest.mark.parametrize("shape", [(1, 3, 30, 32), (1, 3, 32, 34), (1, 1, 32, 32), (3, 32, 32)])
def test_forward_refuses_bad_shapes(shape):
    with pytest.raises(ValueError, match="divisible by 4"):
        faststyle.TransformNet(4, 1)(torch.zeros(shape))


def test_stylize_pads_odd_sizes_and_batches():
    torch.manual_seed(0)
    net = faststyle.TransformNet(4, 1)
    x = torch.rand(5, 3, 30, 37) * 2 - 1
    out = faststyle.stylise(net, x, batch_size=2)
    assert out.shape == x.shape and out.abs().max() <= 1 and not out.requires_grad
    # reflection padding on the bottom and right up to a multiple of 4, then the output cropped back
    y = torch.rand(1, 3, 30, 37) * 2 - 1
    net.eval()
    with torch.no_grad():
        expected = net(nn.functional.pad(y, (0, 3, 0, 2), mode="reflect"))[..., :30, :37]
    net.train()
    assert torch.allclose(faststyle.stylise(net, y), expected, atol=1e-6)
    assert net.training  # the net's mode is restored


def test_stylize_refuses_bad_input():
    net = faststyle.TransformNet(4, 1)
    with pytest.raises(ValueError, match="colour"):
        faststyle.stylise(net, torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        faststyle.stylise(net, torch.full((1, 3, 32, 32), 3.0))
    with pytest.raises(ValueError, match="at least 4x4"):
        faststyle.stylise(net, torch.zeros(1, 3, 2, 8))


def test_residual_block_is_identity_when_its_last_norm_is_zeroed():
    block = faststyle.StyleResidualBlock(8)
    norm = block.body[-1][-1]
    assert isinstance(norm, nn.InstanceNorm2d)
    nn.init.zeros_(norm.weight)
    nn.init.zeros_(norm.bias)
    x = torch.randn(2, 8, 12, 12)
    assert torch.equal(block(x), x)


def test_upsampler_keeps_constant_maps_constant():
    torch.manual_seed(0)
    up = faststyle.UpsampleConv(4, 4)
    nn.init.ones_(up.conv[2].weight)
    x = torch.randn(1, 4, 1, 1).expand(1, 4, 8, 8)
    assert up(x).shape == (1, 4, 16, 16)
    conv_out = up.conv[:2](up.up(x))  # before the instance norm
    assert conv_out.std(dim=(2, 3)).max() < 1e-5
    bad = nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1)
    assert bad(x)[..., 2:-2, 2:-2].std(dim=(2, 3)).max() > 1e-3  # the transposed conv's checkerboard


def test_training_lowers_the_loss_and_is_deterministic(loss_net):
    net_a, hist_a = tiny_run(loss_net)
    assert hist_a.step == [10, 20, 30]
    assert hist_a.total[-1] < 0.7 * hist_a.total[0], hist_a.total
    assert list(hist_a) == ["step", "content", "style", "tv", "total"]  # a train.History: one list per term
    assert all(len(hist_a[k]) == 3 for k in ("content", "style", "tv")) and hist_a.seconds > 0
    net_b, hist_b = tiny_run(loss_net)
    assert hist_a.total == hist_b.total
    assert all(torch.equal(p, q) for p, q in zip(net_a.state_dict().values(), net_b.state_dict().values()))
    _, hist_c = tiny_run(loss_net, seed=1, steps=10)
    assert hist_c.total[0] != hist_a.total[0]


def test_train_refuses_bad_input(loss_net):
    net = faststyle.TransformNet(4, 1)
    sample = faststyle.content_sampler(32)
    with pytest.raises(ValueError, match="lacks the layer"):
        faststyle.train_fast_style(net, loss_net, faststyle.style_image("flower", 32), sample, 1)  # relu3_3, relu4_3
    with pytest.raises(ValueError, match="one colour image"):
        faststyle.train_fast_style(net, loss_net, torch.zeros(2, 3, 32, 32), sample, 1, style_layers=LAYERS)
    with pytest.raises(ValueError, match="steps"):
        faststyle.train_fast_style(net, loss_net, faststyle.style_image("flower", 32), sample, 0, style_layers=LAYERS)


def test_content_sampler_and_style_image():
    a, b = faststyle.content_sampler(24, seed=3), faststyle.content_sampler(24, seed=3)
    x = a(3)
    assert x.shape == (3, 3, 24, 24) and x.abs().max() <= 1
    assert torch.equal(x, b(3)) and not torch.equal(a(3), x)
    assert not set(faststyle.TRAIN_PHOTOS) & set(faststyle.TEST_PHOTOS)
    with pytest.raises(ValueError, match="bundled photos"):
        faststyle.content_sampler(24, photos=("lena",))
    s = faststyle.style_image("flower", 40)
    assert s.shape == (1, 3, 40, 40) and s.abs().max() <= 1


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    net = faststyle.TransformNet(8, 2)
    for m in net.modules():  # non-trivial norm parameters, so a lost key would show
        if isinstance(m, nn.InstanceNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.2, 0.2)
    path = checkpoints.save_checkpoint(net, "faststyle_test.pt", tmp_path)
    assert path.stat().st_size < 5e6
    back = checkpoints.load_checkpoint(faststyle.TransformNet(8, 2), "faststyle_test.pt", tmp_path)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    assert torch.allclose(faststyle.stylise(net, x), faststyle.stylise(back, x), atol=2e-2)


def test_shipped_checkpoint_and_its_results_file():
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    stored = json.loads((root / "notebooks/data/faststyle_results.json").read_text())
    recipe = stored["recipe"]
    assert stored["loss_network"]["weights_source"] in ("random", "imagenet")  # which VGG trained it is recorded
    assert recipe["style_layers"] == list(faststyle.STYLE_LAYERS) and recipe["content_layer"] == faststyle.CONTENT_LAYER
    assert not set(recipe["train_photos"]) & set(recipe["test_photos"])
    assert stored["training_seconds"] <= 40 * 60 and stored["machine"]["threads"] == 1
    path = checkpoints.verify_checkpoint(stored["checkpoint"])  # the SHA-256 line matches
    assert path.stat().st_size < 5e6 and path.stat().st_size == stored["checkpoint_bytes"]
    net = checkpoints.load_checkpoint(faststyle.TransformNet(recipe["width"], recipe["n_blocks"]), stored["checkpoint"])
    photo = utils.data.bundled_image(faststyle.TEST_PHOTOS[0], 128).unsqueeze(0)
    out = faststyle.stylise(net, photo)
    assert out.shape == photo.shape and (out - photo).abs().mean() > 0.1  # it changes the photo ...
    source = stored["loss_network"]["weights_source"]
    loss_net = perceptual.vgg_features("vgg16", faststyle.STYLE_LAYERS, weights=source)
    grams = perceptual.style_targets(loss_net, faststyle.style_image())
    weights = recipe["content_weight"], recipe["style_weight"], recipe["tv_weight"]

    def score(y):
        target = perceptual.content_targets(loss_net, photo, [faststyle.CONTENT_LAYER])
        return perceptual.perceptual_objective(loss_net, y, target, grams, *weights)["total"]

    with torch.no_grad():
        assert score(out) < 0.6 * score(photo)  # ... and lowers the loss it was trained for on an unseen photo
