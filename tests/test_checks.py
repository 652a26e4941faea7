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


# --------------------------------------------------------------------------- notebook 03: mode collapse
import math  # noqa: E402

from utils import remedies  # noqa: E402


def test_mode_collapse_references_pass(capsys):
    checks.check_pack(remedies.pack)
    checks.check_minibatch_std(remedies.MinibatchStd())
    checks.check_gradient_penalty(losses.gradient_penalty)
    checks.check_mode_histogram_kl(metrics.mode_histogram_kl)
    assert capsys.readouterr().out.count("✓") == 4


def _pack_dropping_the_rest(x, m):
    return x[: len(x) // m * m].reshape(-1, m * x.shape[1])


WRONG_PACKS = {
    "transposed (interleaves coordinates of samples)": lambda x, m: x.T.reshape(-1, m * x.shape[1]),
    "strided (sample i with sample i + N/m)": lambda x, m: torch.cat(x.chunk(m), dim=1),
    "silently drops the samples that do not fill a pack": _pack_dropping_the_rest,
    "sums the pack instead of concatenating": lambda x, m: x.reshape(-1, m, x.shape[1]).sum(1),
}


@pytest.mark.parametrize("name", WRONG_PACKS)
def test_wrong_packs_fail(name):
    with pytest.raises(AssertionError):
        checks.check_pack(WRONG_PACKS[name])


def _append(h, value):
    return torch.cat([h, value.reshape(-1, 1).expand(h.shape[0], 1) if value.numel() == 1 else value.reshape(-1, 1)], dim=1)


WRONG_MBSTDS = {
    "unbiased standard deviation": lambda h: _append(h, h.std(0).mean()),
    "variance instead of standard deviation": lambda h: _append(h, h.var(0, unbiased=False).mean()),
    "spread over the features of each row": lambda h: _append(h, h.std(1, unbiased=False)),
    "one column per feature": lambda h: torch.cat([h, h.std(0, unbiased=False).expand_as(h)], dim=1),
    "statistic detached from the graph": lambda h: _append(h, h.detach().std(0, unbiased=False).mean()),
}


@pytest.mark.parametrize("name", WRONG_MBSTDS)
def test_wrong_minibatch_stds_fail(name):
    with pytest.raises(AssertionError):
        checks.check_minibatch_std(WRONG_MBSTDS[name])


def penalty_with(eps_shape="per sample", where="between", reduce="square", create_graph=True, weight=1.0):
    def fn(critic, real, fake):
        n = real.shape[0]
        eps = {"per sample": torch.rand(n, 1), "per batch": torch.rand(1, 1), "per coordinate": torch.rand(n, 2)}[eps_shape]
        x = {"between": eps * real + (1 - eps) * fake, "real": real.clone(), "fake": fake.clone()}[where].requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=create_graph)
        norms = grad.norm(dim=1)
        if reduce == "mean of norms":
            return weight * (norms.mean() - 1) ** 2
        if reduce == "abs":
            return weight * (norms - 1).abs().mean()
        if reduce == "squared norm":
            return weight * (norms**2 - 1).square().mean()
        return weight * (norms - 1).square().mean()
    return fn


WRONG_PENALTIES = {
    "mean of the norms, then squared": penalty_with(reduce="mean of norms"),
    "at the real samples (no interpolation)": penalty_with(where="real"),
    "at the fake samples (no interpolation)": penalty_with(where="fake"),
    "one eps for the whole batch": penalty_with(eps_shape="per batch"),
    "one eps per coordinate": penalty_with(eps_shape="per coordinate"),
    "without create_graph (no gradient for the critic)": penalty_with(create_graph=False),
    "lambda = 10 inside": penalty_with(weight=10.0),
    "|norm - 1| instead of its square": penalty_with(reduce="abs"),
    "squared norm instead of the norm": penalty_with(reduce="squared norm"),
}


@pytest.mark.parametrize("name", WRONG_PENALTIES)
def test_wrong_gradient_penalties_fail(name):
    with pytest.raises(AssertionError):
        checks.check_gradient_penalty(WRONG_PENALTIES[name])


def test_right_gradient_penalty_written_differently_passes():
    checks.check_gradient_penalty(penalty_with())


def kl_with(base=math.e, swapped=False, only_high_quality=True, empty=None):
    def fn(samples, modes, std):
        d, idx = torch.cdist(samples, modes).min(dim=1)
        keep = d < 3 * std if only_high_quality else torch.ones_like(d, dtype=torch.bool)
        counts = torch.bincount(idx[keep], minlength=len(modes)).double()
        k = len(modes)
        if counts.sum() == 0:
            return math.log(k) if empty is None else empty
        p = counts / counts.sum()
        if swapped:
            return float((torch.log((1 / k) / p) / k).sum())
        nz = p > 0
        return float((p[nz] * torch.log(p[nz] * k)).sum() / math.log(base))
    return fn


WRONG_KLS = {
    "log base 2": kl_with(base=2),
    "arguments swapped, KL(uniform || p)": kl_with(swapped=True),
    "counts samples that are not high quality": kl_with(only_high_quality=False),
    "0 when no sample is high quality": kl_with(empty=0.0),
}


@pytest.mark.parametrize("name", WRONG_KLS)
def test_wrong_mode_histogram_kls_fail(name):
    with pytest.raises(AssertionError):
        checks.check_mode_histogram_kl(WRONG_KLS[name])


def test_right_mode_histogram_kl_written_differently_passes():
    checks.check_mode_histogram_kl(kl_with())


# --------------------------------------------------------------------------- notebook 04: DCGAN and the conditional GAN
from torch import nn  # noqa: E402

from utils import models  # noqa: E402


def test_reference_solutions_pass_04(capsys):
    checks.check_conv_transpose_output_size(models.conv_transpose_output_size)
    checks.check_dcgan_init(models.dcgan_init)
    checks.check_conditional_input(models.conditional_input)
    assert capsys.readouterr().out.count("✓") == 3


WRONG_CONVT_SIZES = {
    "the convolution formula": lambda i, k, s, p, op: (i + 2 * p - k) // s + 1,
    "i * s instead of (i - 1) * s": lambda i, k, s, p, op: i * s - 2 * p + k + op,
    "padding subtracted once": lambda i, k, s, p, op: (i - 1) * s - p + k + op,
    "output_padding ignored": lambda i, k, s, p, op: (i - 1) * s - 2 * p + k,
    "off by one": lambda i, k, s, p, op: (i - 1) * s - 2 * p + k + op + 1,
    "stride-2 doubling assumed": lambda i, k, s, p, op: i * s,
    "returns a float": lambda i, k, s, p, op: float((i - 1) * s - 2 * p + k + op),
}


@pytest.mark.parametrize("name", WRONG_CONVT_SIZES)
def test_wrong_conv_transpose_sizes_fail(name):
    with pytest.raises(AssertionError):
        checks.check_conv_transpose_output_size(WRONG_CONVT_SIZES[name])


def init_with(std: float = 0.02, bn_mean: float = 1.0, layers=(nn.Conv2d, nn.ConvTranspose2d, nn.Linear),
              zero_bias: bool = True, uniform: bool = False):
    def fn(m):
        if isinstance(m, layers):
            if uniform:
                nn.init.uniform_(m.weight, -std, std)
            else:
                nn.init.normal_(m.weight, 0.0, std)
            if zero_bias and m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, bn_mean, 0.02)
            nn.init.zeros_(m.bias)
    return fn


@pytest.mark.parametrize("fn", [init_with(std=0.2), init_with(std=0.02**2), init_with(bn_mean=0.0),
                                init_with(uniform=True), init_with(zero_bias=False),
                                init_with(layers=(nn.Conv2d, nn.Linear)), init_with(layers=(nn.Conv2d, nn.ConvTranspose2d)),
                                lambda m: None,
                                lambda m: nn.init.xavier_normal_(m.weight) if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) else None],
                         ids=["std 0.2", "0.02 used as the variance", "batch-norm scales around 0", "uniform(-0.02, 0.02)",
                              "biases left alone", "transposed convolutions missed", "linear layers missed",
                              "does nothing", "Xavier instead"])
def test_wrong_dcgan_inits_fail(fn):
    with pytest.raises(AssertionError):
        checks.check_dcgan_init(fn)


def test_right_dcgan_init_written_differently_passes():
    def fn(m):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            with torch.no_grad():
                m.weight.copy_(torch.randn_like(m.weight) * 0.02)
                if m.bias is not None:
                    m.bias.zero_()
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.copy_(1 + 0.02 * torch.randn_like(m.weight))
                m.bias.zero_()
    checks.check_dcgan_init(fn)


WRONG_CONDITIONAL_INPUTS = {
    "labels appended as numbers, not one-hot": lambda z, y, n: torch.cat([z, y.float().unsqueeze(1)], dim=1),
    "concatenated on the batch dimension": lambda z, y, n: torch.cat([z, F.one_hot(y, n).float()], dim=0),
    "one-hot code before z": lambda z, y, n: torch.cat([F.one_hot(y, n).float(), z], dim=1),
    "labels shifted by one": lambda z, y, n: torch.cat([z, F.one_hot((y + 1) % n, n).float()], dim=1),
    "n_classes from the batch's largest label": lambda z, y, n: torch.cat([z, F.one_hot(y).float()], dim=1),
    "always 10 classes": lambda z, y, n: torch.cat([z, F.one_hot(y, 10).float()], dim=1),
    "labels added to z": lambda z, y, n: z + y.float().unsqueeze(1),
    "no gradient to z (numpy round trip)": lambda z, y, n: torch.from_numpy(
        torch.cat([z, F.one_hot(y, n).float()], dim=1).detach().numpy().copy()),
}


@pytest.mark.parametrize("name", WRONG_CONDITIONAL_INPUTS)
def test_wrong_conditional_inputs_fail(name):
    with pytest.raises(AssertionError):
        checks.check_conditional_input(WRONG_CONDITIONAL_INPUTS[name])


def test_right_conditional_input_written_differently_passes():
    checks.check_conditional_input(lambda z, y, n: torch.cat([z, torch.eye(n)[y]], dim=1))


# --------------------------------------------------------------------------- notebook 05: pix2pix
from utils import pix2pix  # noqa: E402


def test_reference_solutions_pass_05(capsys):
    checks.check_unet_skip(pix2pix.skip_connection)
    checks.check_patchgan_receptive_field(pix2pix.receptive_field)
    checks.check_pix2pix_generator_loss(pix2pix.pix2pix_generator_loss)
    checks.check_conditional_pair(pix2pix.conditional_pair)
    assert capsys.readouterr().out.count("✓") == 4


WRONG_SKIPS = {
    "concatenated on the batch dimension": lambda d, e: torch.cat([d, e], dim=0),
    "concatenated on the height": lambda d, e: torch.cat([d, e], dim=2),
    "concatenated side by side (width)": lambda d, e: torch.cat([d, e], dim=3),
    "encoder first": lambda d, e: torch.cat([e, d], dim=1),
    "added, ResNet-style": lambda d, e: d + e,
    "stacked (a new dimension)": lambda d, e: torch.stack([d, e], dim=1),
    "no skip (decoder only)": lambda d, e: d,
    "encoder resized to fit": lambda d, e: torch.cat([d, F.interpolate(e, size=d.shape[-2:])], dim=1),
    "encoder detached": lambda d, e: torch.cat([d, e.detach()], dim=1),
}


@pytest.mark.parametrize("name", WRONG_SKIPS)
def test_wrong_unet_skips_fail(name):
    with pytest.raises(AssertionError):
        checks.check_unet_skip(WRONG_SKIPS[name])


def test_right_unet_skip_written_differently_passes():
    checks.check_unet_skip(lambda d, e: torch.cat((d, e), dim=-3))


def _rf_walk(start=1, backwards=True, use_stride=True, minus_one=True):
    def fn(layers):
        r = start
        for k, s in (reversed(layers) if backwards else layers):
            r = (r - 1 if minus_one else r) * (s if use_stride else 1) + k
        return r
    return fn


def _rf_own_stride(layers):
    r = 1
    for k, s in layers:
        r += (k - 1) * s  # each layer's own stride instead of the product of the strides before it
    return r


WRONG_RECEPTIVE_FIELDS = {
    "walked from the input (no reversed)": _rf_walk(backwards=False),
    "strides ignored": _rf_walk(use_stride=False),
    "started from r = 0": _rf_walk(start=0),
    "r * s + k (the - 1 forgotten)": _rf_walk(minus_one=False),
    "forward walk with each layer's own stride": _rf_own_stride,
    "sum of the kernels": lambda layers: sum(k for k, _ in layers) or 1,
    "product of the strides times the last kernel": lambda layers: (math.prod(s for _, s in layers) * layers[-1][0]) if layers else 1,
    "returns a float": lambda layers: float(_rf_walk()(layers)),
}


@pytest.mark.parametrize("name", WRONG_RECEPTIVE_FIELDS)
def test_wrong_receptive_fields_fail(name):
    with pytest.raises(AssertionError):
        checks.check_patchgan_receptive_field(WRONG_RECEPTIVE_FIELDS[name])


def test_right_receptive_field_written_differently_passes():
    def forward(layers):
        r, jump = 1, 1
        for k, s in layers:
            r += (k - 1) * jump
            jump *= s
        return r
    checks.check_patchgan_receptive_field(forward)


def g_loss_with(pixel="l1", gan="nonsaturating", reduce="mean", lam_on="l1", fixed_lambda=None, weighted_l1=False,
                detach=False):
    def fn(logits, fake, target, lambda_l1=100.0):
        lam = lambda_l1 if fixed_lambda is None else fixed_lambda
        diff = fake - target
        pix = {"l1": diff.abs(), "l2": diff.square(), "signed": diff}[pixel]
        adv = {"nonsaturating": F.softplus(-logits), "saturating": -F.softplus(logits),
               "label fake": F.softplus(logits)}[gan]
        pix, adv = (pix.mean(), adv.mean()) if reduce == "mean" else (pix.sum(), adv.sum())
        total = adv + lam * pix if lam_on == "l1" else lam * adv + pix if lam_on == "gan" else adv + pix
        if detach:
            total = torch.tensor(total.detach().item())
        return total, adv, lam * pix if weighted_l1 else pix
    return fn


WRONG_G_LOSSES_05 = {
    "L2 instead of L1": g_loss_with(pixel="l2"),
    "no absolute value": g_loss_with(pixel="signed"),
    "saturating GAN term": g_loss_with(gan="saturating"),
    "label 'fake' for G's outputs": g_loss_with(gan="label fake"),
    "sums instead of means": g_loss_with(reduce="sum"),
    "lambda on the GAN term": g_loss_with(lam_on="gan"),
    "lambda forgotten": g_loss_with(lam_on="none"),
    "lambda fixed at 100": g_loss_with(fixed_lambda=100.0),
    "l1_term returned weighted": g_loss_with(weighted_l1=True),
    "no gradient (float round trip)": g_loss_with(detach=True),
    "returns the total only": lambda logits, fake, target, lam=100.0: F.softplus(-logits).mean() + lam * (fake - target).abs().mean(),
}


@pytest.mark.parametrize("name", WRONG_G_LOSSES_05)
def test_wrong_pix2pix_generator_losses_fail(name):
    with pytest.raises(AssertionError):
        checks.check_pix2pix_generator_loss(WRONG_G_LOSSES_05[name])


def test_right_pix2pix_generator_loss_written_differently_passes():
    def fn(logits, fake, target, lambda_l1):
        gan = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        l1 = F.l1_loss(fake, target)
        return gan + lambda_l1 * l1, gan, l1
    checks.check_pix2pix_generator_loss(fn)


WRONG_CONDITIONAL_PAIRS = {
    "the output alone (an unconditional D)": lambda a, b: b,
    "input added to the output": lambda a, b: a + b,
    "output first": lambda a, b: torch.cat([b, a], dim=1),
    "on the batch dimension": lambda a, b: torch.cat([a, b], dim=0),
    "side by side, like the A|B files": lambda a, b: torch.cat([a.expand_as(b), b], dim=3),
    "one above the other": lambda a, b: torch.cat([a.expand_as(b), b], dim=2),
    "the output detached": lambda a, b: torch.cat([a, b.detach()], dim=1),
    "stacked (a new dimension)": lambda a, b: torch.stack([a.expand_as(b), b], dim=1),
}


@pytest.mark.parametrize("name", WRONG_CONDITIONAL_PAIRS)
def test_wrong_conditional_pairs_fail(name):
    with pytest.raises(AssertionError):
        checks.check_conditional_pair(WRONG_CONDITIONAL_PAIRS[name])


def test_right_conditional_pair_written_differently_passes():
    checks.check_conditional_pair(lambda a, b: torch.cat((a, b), 1))


def _blank(*args):
    raise NotImplementedError("the blank")


@pytest.mark.parametrize("check", [checks.check_unet_skip, checks.check_patchgan_receptive_field,
                                   checks.check_pix2pix_generator_loss, checks.check_conditional_pair],
                         ids=lambda c: c.__name__)
def test_pix2pix_checks_let_a_blank_raise_its_own_error(check):
    with pytest.raises(NotImplementedError):  # the lessons' test expects the blank's error, not an AssertionError
        check(_blank)
