"""The fast path (utils.scale.fast) learns what the plain path learns: same losses over a few steps on the CPU."""

from __future__ import annotations

import copy

import pytest
import torch

from utils import cyclegan, faststyle, perceptual, pix2pix
from utils.scale import fast

STEPS = 3
SIZE = 32
# fused Adam and channels-last convolutions sum in another order than the plain path: float32 rounding only
RTOL, ATOL = 1e-4, 1e-5
# with every switch off the fast steps run the plain steps' operations: float32 round-off at most
TIGHT = 1e-6
# what the fast path does on a GPU, bf16 aside (bf16 rounds: tested apart), run on the CPU
GPU_LAYOUT = fast.speed(True, "cpu", channels_last=True)


def same_losses(plain: list[dict[str, float]], quick: list[dict[str, float]]) -> None:
    """Every logged loss of every step equal to tolerance."""
    assert len(plain) == len(quick)
    for step, (p, q) in enumerate(zip(plain, quick), 1):
        for key in p:
            assert q[key] == pytest.approx(p[key], rel=RTOL, abs=ATOL), (step, key, p[key], q[key])


def pix2pix_runs(sp: fast.Speed) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """The plain notebook step and the fast step from one initialisation and one batch sequence."""
    torch.manual_seed(0)
    # No dropout: its random masks are drawn in memory order, which channels-last changes (a different mask, the
    # same distribution). Everything else of the pix2pix default is here: U-Net, PatchGAN, batch norm, lambda 100.
    G = pix2pix.unet_generator(3, 3, SIZE, width=8, dropout=0.0)
    D = pix2pix.patchgan_discriminator(6, 8, 2)
    batches = [(torch.rand(2, 3, SIZE, SIZE) * 2 - 1, torch.rand(2, 3, SIZE, SIZE) * 2 - 1) for _ in range(STEPS)]

    G1, D1 = copy.deepcopy(G), copy.deepcopy(D)
    o_g, o_d = (
        torch.optim.Adam(G1.parameters(), 2e-4, betas=(0.5, 0.999)),
        torch.optim.Adam(D1.parameters(), 2e-4, betas=(0.5, 0.999)),
    )
    plain = [pix2pix.pix2pix_step(G1, D1, o_g, o_d, batch) for batch in batches]

    G2, D2 = fast.prepare(copy.deepcopy(G), sp, "cpu"), fast.prepare(copy.deepcopy(D), sp, "cpu")
    run_g, run_d = fast.compiled(G2, sp), fast.compiled(D2, sp)
    o_g, o_d = fast.adam(G2.parameters(), sp), fast.adam(D2.parameters(), sp)
    quick = []
    for a, b in batches:
        logs = fast.train_step_pix2pix(run_g, run_d, o_g, o_d, fast.images(a, sp, "cpu"), fast.images(b, sp, "cpu"), sp)
        quick.append({k: float(v) for k, v in logs.items()})
    return plain, quick


def test_the_switch_turns_on_what_the_device_has():
    assert fast.speed(False) == fast.PLAIN and str(fast.PLAIN) == "plain"
    cpu = fast.speed(True, "cpu")
    assert cpu.fused_adam and not (cpu.bf16 or cpu.compile or cpu.channels_last)
    gpu = fast.speed(True, "cuda")
    assert gpu.bf16 and gpu.channels_last and gpu.compile and gpu.fused_adam and gpu.cudnn_benchmark
    assert fast.speed(True, "cpu", compile=True).compile and GPU_LAYOUT.channels_last
    with pytest.raises(ValueError, match="compile_mode"):
        fast.speed(True, "cuda", compile_mode="fastest")


def test_pix2pix_fast_path_gives_the_plain_losses():
    plain, quick = pix2pix_runs(GPU_LAYOUT)
    same_losses(plain, quick)
    assert plain[0]["d_loss"] != plain[-1]["d_loss"]  # it trained


def test_pix2pix_compiled_gives_the_plain_losses():
    pytest.importorskip("torch._inductor")
    plain, quick = pix2pix_runs(fast.speed(True, "cpu", channels_last=True, compile=True))
    same_losses(plain, quick)


def test_the_comparison_catches_a_different_loss():
    """The check above can fail: a fast step with another lambda does not give the plain losses."""
    sp = GPU_LAYOUT
    original = fast.train_step_pix2pix

    def wrong(*args, **kwargs):
        return original(*args, **{**kwargs, "lambda_l1": 10.0})

    fast.train_step_pix2pix = wrong
    try:
        plain, quick = pix2pix_runs(sp)
    finally:
        fast.train_step_pix2pix = original
    with pytest.raises(AssertionError):
        same_losses(plain, quick)


def cyclegan_runs(sp: fast.Speed) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """utils.cyclegan.cyclegan_step and the fast step from one initialisation, one batch sequence and one pool seed."""
    torch.manual_seed(0)
    nets = cyclegan.CycleGAN(
        cyclegan.resnet_generator(3, 3, 8, 2),
        cyclegan.resnet_generator(3, 3, 8, 2),
        cyclegan.cyclegan_discriminator(3, 8, 2),
        cyclegan.cyclegan_discriminator(3, 8, 2),
    )
    batches = [(torch.rand(2, 3, SIZE, SIZE) * 2 - 1, torch.rand(2, 3, SIZE, SIZE) * 2 - 1) for _ in range(STEPS)]
    runs = []
    for path in ("plain", "fast"):
        n = copy.deepcopy(nets)
        pools = cyclegan.ImagePool(3, 0), cyclegan.ImagePool(3, 1)  # small pools: swaps happen within three steps
        if path == "plain":
            o_g = torch.optim.Adam(n.generators(), 2e-4, betas=(0.5, 0.999))
            o_d = torch.optim.Adam(n.discriminators(), 2e-4, betas=(0.5, 0.999))
            logs = [cyclegan.cyclegan_step(n, o_g, o_d, a, b, *pools) for a, b in batches]
        else:
            for net in (n.g_ab, n.g_ba, n.d_a, n.d_b):
                fast.prepare(net, sp, "cpu")
            o_g, o_d = fast.adam(n.generators(), sp), fast.adam(n.discriminators(), sp)
            logs = [
                fast.train_step_cyclegan(n, o_g, o_d, fast.images(a, sp, "cpu"), fast.images(b, sp, "cpu"), *pools, sp)
                for a, b in batches
            ]
        runs.append([{k: float(v) for k, v in step.items()} for step in logs])
    return runs[0], runs[1]


def plain_fast_style_step(net, loss_net, opt, x, grams, tv_weight):
    """The loop body of utils.faststyle.train_fast_style (its defaults: relu2_2, content 1, style 10), written out here
    so that this test depends on the lesson's loss function, not on the training loop's signature."""
    layer = faststyle.CONTENT_LAYER
    with torch.no_grad():
        target = {layer: loss_net.features[: loss_net.layer_index[layer] + 1](loss_net.normalise(x))}
    terms = perceptual.perceptual_objective(loss_net, net(x), target, grams, 1.0, 10.0, tv_weight)
    opt.zero_grad(set_to_none=True)
    terms["total"].backward()
    opt.step()
    return {k: float(terms[k].detach()) for k in ("content", "style", "tv", "total")}


def fast_style_runs(sp: fast.Speed) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """The plain fast-style step and the fast path's from one initialisation and one batch sequence."""
    torch.manual_seed(0)
    loss_net = perceptual.vgg_features("vgg16", faststyle.STYLE_LAYERS, weights="random")
    net = faststyle.TransformNet(width=8, n_blocks=1)
    grams = perceptual.style_targets(loss_net, torch.rand(1, 3, SIZE, SIZE) * 2 - 1, faststyle.STYLE_LAYERS)
    batches = [torch.rand(2, 3, SIZE, SIZE) * 2 - 1 for _ in range(STEPS)]
    plain_net = copy.deepcopy(net)
    opt = torch.optim.Adam(plain_net.parameters(), lr=1e-3)  # train_fast_style's optimiser
    plain = [plain_fast_style_step(plain_net, loss_net, opt, x, grams, 1e-3) for x in batches]
    fast_net = fast.prepare(copy.deepcopy(net), sp, "cpu")
    opt = fast.adam(fast_net.parameters(), sp, lr=1e-3, betas=(0.9, 0.999))
    steps = (
        fast.train_step_fast_style(fast_net, loss_net, opt, fast.images(x, sp, "cpu"), grams, sp, tv_weight=1e-3)
        for x in batches
    )
    return plain, [{k: float(v) for k, v in logs.items()} for logs in steps]


def test_cyclegan_fast_path_gives_the_plain_losses():
    plain, quick = cyclegan_runs(GPU_LAYOUT)
    same_losses(plain, quick)
    assert plain[0]["cycle"] != plain[-1]["cycle"]  # it trained


def test_fast_style_fast_path_gives_the_plain_losses():
    plain, quick = fast_style_runs(GPU_LAYOUT)
    same_losses(plain, quick)
    assert plain[0]["tv"] > 0 and plain[0]["total"] != plain[-1]["total"]  # tv is on, and it trained


@pytest.mark.parametrize("runs", [pix2pix_runs, cyclegan_runs, fast_style_runs], ids=["pix2pix", "cyclegan", "style"])
def test_the_fast_steps_are_the_plain_steps_in_float32(runs):
    """With every switch off (float32, NCHW, the plain Adam), the fast steps compute what the lessons' steps compute:
    the same loss functions on the same tensors, so the losses agree to float32 rounding over every step."""
    plain, quick = runs(fast.PLAIN)
    assert len(plain) == len(quick) == STEPS
    for step, (p, q) in enumerate(zip(plain, quick), 1):
        assert p.keys() == q.keys(), (step, sorted(p), sorted(q))
        for key in p:
            assert q[key] == pytest.approx(p[key], rel=TIGHT, abs=TIGHT), (step, key, p[key], q[key])


def test_bf16_stays_close_and_keeps_the_losses_in_float32():
    """bf16 rounds (so it is left out of the equality above) but stays near the plain losses, and every loss term
    comes out float32."""
    sp = fast.speed(True, "cpu", channels_last=True, bf16=True)
    torch.manual_seed(0)
    G = pix2pix.unet_generator(3, 3, SIZE, width=8, dropout=0.0)
    D = pix2pix.patchgan_discriminator(6, 8, 2)
    a, b = torch.rand(2, 3, SIZE, SIZE) * 2 - 1, torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    G1, D1 = copy.deepcopy(G), copy.deepcopy(D)
    ref = pix2pix.pix2pix_step(
        G1, D1, fast.adam(G1.parameters(), fast.PLAIN), fast.adam(D1.parameters(), fast.PLAIN), (a, b)
    )
    logs = fast.train_step_pix2pix(G, D, fast.adam(G.parameters(), sp), fast.adam(D.parameters(), sp), a, b, sp)
    assert all(v.dtype == torch.float32 for v in logs.values())
    assert all(p.dtype == torch.float32 for p in G.parameters())
    for key in ref:
        assert float(logs[key]) == pytest.approx(ref[key], rel=0.05), key


def test_bf16_gram_matrices_are_float32(monkeypatch):
    """Under bf16 autocast the features come out bf16, but the Gram matrices (and every loss) see float32."""
    sp = fast.speed(True, "cpu", channels_last=True, bf16=True)
    torch.manual_seed(0)
    loss_net = perceptual.vgg_features("vgg16", faststyle.STYLE_LAYERS, weights="random")
    net = faststyle.TransformNet(width=8, n_blocks=1)
    grams = perceptual.style_targets(loss_net, torch.rand(1, 3, SIZE, SIZE) * 2 - 1, faststyle.STYLE_LAYERS)
    seen = []
    original = perceptual.gram_matrix

    def spy(features, normalise="chw"):
        seen.append(features.dtype)
        out = original(features, normalise)
        seen.append(out.dtype)
        return out

    monkeypatch.setattr(perceptual, "gram_matrix", spy)
    x = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    logs = fast.train_step_fast_style(net, loss_net, fast.adam(net.parameters(), sp, 1e-3), x, grams, sp)
    assert seen and set(seen) == {torch.float32}, seen
    assert all(v.dtype == torch.float32 for v in logs.values())
    with fast.autocast(sp, "cpu"):  # ... while the loss network itself did run in bf16
        assert fast.loss_features(loss_net, x, ("relu2_2",))["relu2_2"].dtype == torch.bfloat16


def test_cuda_graphs_are_asked_for_on_cuda_only():
    on = fast.speed(True, "cuda", cuda_graph=True)
    assert on.cuda_graph and str(on).endswith("cudnn_benchmark, cuda_graph")
    assert not fast.speed(True, "cuda").cuda_graph  # the default: a step must read fixed tensors to be captured
    with pytest.raises(ValueError, match="cuda_graph needs a CUDA device"):
        fast.speed(True, "cpu", cuda_graph=True)
    assert fast.adam([torch.nn.Parameter(torch.ones(2))], on).defaults["capturable"]
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="needs a CUDA GPU"):
            fast.graphed(lambda: None)
