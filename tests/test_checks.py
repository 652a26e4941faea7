"""The exercises' checks pass the reference solutions and fail wrong ones (a check that cannot fail is no check)."""

import sys

import pytest
import torch
import torch.nn.functional as F

from utils import losses, metrics
from utils.course import checks


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
    "probabilities treated as logits": lambda r, f: (
        -torch.log(r.clamp_min(1e-6)).mean() - torch.log((1 - f).clamp_min(1e-6)).mean()
    ),
    "no gradient (numpy round trip)": lambda r, f: torch.tensor((F.softplus(-r).mean() + F.softplus(f).mean()).item()),
    # right on paper, but -inf once sigmoid underflows: the hint in the exercise says why
    "log of sigmoid (overflows)": lambda r, f: (
        -torch.log(torch.sigmoid(r)).mean() - torch.log(1 - torch.sigmoid(f)).mean()
    ),
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
    "log of sigmoid (overflows)": lambda f: -torch.log(torch.sigmoid(f)).mean(),
}


def test_stable_forms_of_the_gan_losses_pass():
    """Other numerically stable ways of writing the two losses pass the large-logit checks too."""
    checks.check_discriminator_loss(lambda r, f: -F.logsigmoid(r).mean() - F.logsigmoid(-f).mean())
    checks.check_discriminator_loss(
        lambda r, f: (
            F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
            + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
        )
    )
    checks.check_generator_loss_nonsaturating(lambda f: -F.logsigmoid(f).mean())


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


@pytest.mark.parametrize(
    "fn",
    [
        coverage_with(1.0),
        coverage_with(2.0),
        coverage_with(4.0),
        coverage_with(require_quality=False),
        coverage_with(squared=True),
    ],
    ids=["1 std", "2 std", "4 std", "any nearest sample counts", "squared distance"],
)
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
    return torch.cat(
        [h, value.reshape(-1, 1).expand(h.shape[0], 1) if value.numel() == 1 else value.reshape(-1, 1)], dim=1
    )


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
        eps = {"per sample": torch.rand(n, 1), "per batch": torch.rand(1, 1), "per coordinate": torch.rand(n, 2)}[
            eps_shape
        ]
        x = {"between": eps * real + (1 - eps) * fake, "real": real.clone(), "fake": fake.clone()}[
            where
        ].requires_grad_(True)
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


def init_with(
    std: float = 0.02,
    bn_mean: float = 1.0,
    layers=(nn.Conv2d, nn.ConvTranspose2d, nn.Linear),
    zero_bias: bool = True,
    uniform: bool = False,
):
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


@pytest.mark.parametrize(
    "fn",
    [
        init_with(std=0.2),
        init_with(std=0.02**2),
        init_with(bn_mean=0.0),
        init_with(uniform=True),
        init_with(zero_bias=False),
        init_with(layers=(nn.Conv2d, nn.Linear)),
        init_with(layers=(nn.Conv2d, nn.ConvTranspose2d)),
        lambda m: None,
        lambda m: nn.init.xavier_normal_(m.weight) if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) else None,
    ],
    ids=[
        "std 0.2",
        "0.02 used as the variance",
        "batch-norm scales around 0",
        "uniform(-0.02, 0.02)",
        "biases left alone",
        "transposed convolutions missed",
        "linear layers missed",
        "does nothing",
        "Xavier instead",
    ],
)
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
        torch.cat([z, F.one_hot(y, n).float()], dim=1).detach().numpy().copy()
    ),
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
        for k, s in reversed(layers) if backwards else layers:
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
    "product of the strides times the last kernel": lambda layers: (
        (math.prod(s for _, s in layers) * layers[-1][0]) if layers else 1
    ),
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


def g_loss_with(
    pixel="l1", gan="nonsaturating", reduce="mean", lam_on="l1", fixed_lambda=None, weighted_l1=False, detach=False
):
    def fn(logits, fake, target, lambda_l1=100.0):
        lam = lambda_l1 if fixed_lambda is None else fixed_lambda
        diff = fake - target
        pix = {"l1": diff.abs(), "l2": diff.square(), "signed": diff}[pixel]
        adv = {
            "nonsaturating": F.softplus(-logits),
            "saturating": -F.softplus(logits),
            "label fake": F.softplus(logits),
        }[gan]
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
    "returns the total only": lambda logits, fake, target, lam=100.0: (
        F.softplus(-logits).mean() + lam * (fake - target).abs().mean()
    ),
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


@pytest.mark.parametrize(
    "check",
    [
        checks.check_unet_skip,
        checks.check_patchgan_receptive_field,
        checks.check_pix2pix_generator_loss,
        checks.check_conditional_pair,
    ],
    ids=lambda c: c.__name__,
)
def test_pix2pix_checks_let_a_blank_raise_its_own_error(check):
    with pytest.raises(NotImplementedError):  # the lessons' test expects the blank's error, not an AssertionError
        check(_blank)


# --------------------------------------------------------------------------- notebook 07: CycleGAN
from utils import cyclegan  # noqa: E402


def test_cyclegan_reference_solutions_pass(capsys):
    checks.check_cycle_loss(cyclegan.cycle_loss)
    checks.check_identity_loss(cyclegan.identity_loss)
    checks.check_image_pool(cyclegan.ImagePool)
    checks.check_lsgan_discriminator_loss(cyclegan.lsgan_discriminator_loss)
    assert capsys.readouterr().out.count("✓") == 4


def two_way_l1(direction="both", pixel="l1", reduce="mean", combine="add", weight=1.0, detach=False, cross=False):
    def fn(real_a, x_a, real_b, x_b):
        def term(x, real):
            diff = x - real
            err = {"l1": diff.abs(), "l2": diff.square(), "signed": diff}[pixel]
            return err.mean() if reduce == "mean" else err.sum()

        if cross:  # each output compared with the other domain's images (broadcast over the channels)
            total = (x_a - real_b).abs().mean() + (x_b - real_a).abs().mean()
        elif combine == "concatenate":
            total = torch.cat([(x_a - real_a).abs().flatten(), (x_b - real_b).abs().flatten()]).mean()
        else:
            a, b = term(x_a, real_a), term(x_b, real_b)
            total = {"both": a + b, "a": a, "b": b}[direction]
            if combine == "average":
                total = total / 2
        total = weight * total
        return torch.tensor(total.item()) if detach else total

    return fn


WRONG_TWO_WAY_L1 = {
    "one direction only (A)": two_way_l1(direction="a"),
    "one direction only (B)": two_way_l1(direction="b"),
    "L2 instead of L1": two_way_l1(pixel="l2"),
    "no absolute value": two_way_l1(pixel="signed"),
    "sums instead of means": two_way_l1(reduce="sum"),
    "the two directions averaged": two_way_l1(combine="average"),
    "the mean over both domains' pixels together": two_way_l1(combine="concatenate"),
    "each output compared with the other domain": two_way_l1(cross=True),
    "weighted by lambda = 10 inside": two_way_l1(weight=10.0),
    "weighted by 0.5 lambda = 5 inside": two_way_l1(weight=5.0),
    "no gradient (float round trip)": two_way_l1(detach=True),
}


@pytest.mark.filterwarnings("ignore::UserWarning")  # the cross-domain version broadcasts, and F.l1_loss may warn
@pytest.mark.parametrize("name", WRONG_TWO_WAY_L1)
@pytest.mark.parametrize("check", [checks.check_cycle_loss, checks.check_identity_loss], ids=lambda c: c.__name__)
def test_wrong_cycle_and_identity_losses_fail(check, name):
    with pytest.raises(AssertionError):
        check(WRONG_TWO_WAY_L1[name])


def test_right_cycle_and_identity_losses_written_differently_pass():
    fn = lambda ra, xa, rb, xb: (xa - ra).abs().mean() + torch.mean(torch.abs(rb - xb))  # noqa: E731
    checks.check_cycle_loss(fn)
    checks.check_identity_loss(lambda ra, xa, rb, xb: F.l1_loss(xa, ra, reduction="mean") + F.l1_loss(xb, rb))


class _OnlyNewPool(cyclegan.ImagePool):
    def query(self, images):  # fills, then always lets the new image through
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
        return images.detach()


class _FrozenPool(cyclegan.ImagePool):
    def query(self, images):  # never stores new images once full: returns a stored one but keeps it
        if self.size == 0:
            return images.detach()
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif self.rng.random() < 0.5:
                out.append(self.images[self.rng.randrange(self.size)])
            else:
                out.append(image)
        return torch.stack(out)


class _AlwaysSwapPool(cyclegan.ImagePool):
    def query(self, images):  # swaps every image once full
        if self.size == 0:
            return images.detach()
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            else:
                i = self.rng.randrange(self.size)
                out.append(self.images[i])
                self.images[i] = image.clone()
        return torch.stack(out)


class _ForgetfulPool(cyclegan.ImagePool):
    def query(self, images):  # returns (and removes) a stored image but does not store the new one in its place
        if self.size == 0:
            return images.detach()
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif self.rng.random() < 0.5:
                out.append(self.images.pop(self.rng.randrange(self.size)))
            else:
                out.append(image)
        return torch.stack(out)


class _NoFillPool(cyclegan.ImagePool):
    def query(self, images):  # tosses the coin from the start, swapping among whatever is stored
        if self.size == 0:
            return images.detach()
        out = []
        for image in images.detach():
            if self.images and self.rng.random() < 0.5:
                i = self.rng.randrange(len(self.images))
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                if len(self.images) < self.size:
                    self.images.append(image.clone())
                out.append(image)
        return torch.stack(out)


class _AttachedPool(cyclegan.ImagePool):
    def query(self, images):  # the reference without detach()
        if self.size == 0:
            return images
        out = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif self.rng.random() < 0.5:
                i = self.rng.randrange(self.size)
                out.append(self.images[i])
                self.images[i] = image
            else:
                out.append(image)
        return torch.stack(out)


class _WholeBatchPool(cyclegan.ImagePool):
    def query(self, images):  # one coin per batch: the whole batch is swapped or not
        if self.size == 0:
            return images.detach()
        swap = len(self.images) >= self.size and self.rng.random() < 0.5
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif swap:
                i = self.rng.randrange(self.size)
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)


class _FifoPool(cyclegan.ImagePool):
    def query(self, images):  # a queue: the oldest stored image comes back, not a random one
        if self.size == 0:
            return images.detach()
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif self.rng.random() < 0.5:
                out.append(self.images.pop(0))
                self.images.append(image.clone())
            else:
                out.append(image)
        return torch.stack(out)


class _NoSizeZeroPool(cyclegan.ImagePool):
    def query(self, images):  # the reference without its size-0 case
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif self.rng.random() < 0.5:
                i = self.rng.randrange(self.size)
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)


class _BiasedPool(cyclegan.ImagePool):
    def query(self, images):  # swaps with probability 1/4
        if self.size == 0:
            return images.detach()
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif self.rng.random() < 0.25:
                i = self.rng.randrange(self.size)
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)


WRONG_POOLS = {
    "returns only new images": _OnlyNewPool,
    "never stores new images after filling": _FrozenPool,
    "always swaps": _AlwaysSwapPool,
    "returns the stored image but forgets to store the new one": _ForgetfulPool,
    "does not fill first": _NoFillPool,
    "returns non-detached tensors": _AttachedPool,
    "one coin per batch": _WholeBatchPool,
    "a queue (the oldest comes back)": _FifoPool,
    "size 0 not handled": _NoSizeZeroPool,
    "swaps with probability 1/4": _BiasedPool,
}


@pytest.mark.parametrize("name", WRONG_POOLS)
def test_wrong_image_pools_fail(name):
    with pytest.raises(AssertionError):
        checks.check_image_pool(WRONG_POOLS[name])


class _TorchRandomPool(cyclegan.ImagePool):
    def query(self, images):  # right, but with PyTorch's global generator instead of self.rng
        if self.size == 0:
            return images.detach()
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image.clone())
            elif torch.rand(()) < 0.5:
                i = int(torch.randint(self.size, ()))
                out.append(self.images[i].clone())
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)


def test_right_image_pool_written_differently_passes():
    checks.check_image_pool(_TorchRandomPool)


def test_image_pool_check_is_deterministic_and_leaves_the_global_generators_alone(capsys):
    import random

    torch.manual_seed(123)
    random.seed(123)
    expected = (torch.rand(()), random.random())
    torch.manual_seed(123)
    random.seed(123)
    checks.check_image_pool(_TorchRandomPool)
    checks.check_image_pool(_TorchRandomPool)
    assert (torch.rand(()), random.random()) == expected
    first, second = capsys.readouterr().out.splitlines()
    assert first == second


def lsgan_d_with(kind="ls", targets="right", half=True, reduce="mean", detach=False):
    def fn(real, fake):
        t_real, t_fake = (1.0, 0.0) if targets == "right" else (0.0, 1.0)
        if kind == "bce":
            r = F.binary_cross_entropy_with_logits(real, torch.full_like(real, t_real), reduction=reduce)
            f = F.binary_cross_entropy_with_logits(fake, torch.full_like(fake, t_fake), reduction=reduce)
        else:
            if kind == "sigmoid":
                real, fake = torch.sigmoid(real), torch.sigmoid(fake)
            dist = (lambda x, t: (x - t).abs()) if kind == "abs" else (lambda x, t: (x - t).square())
            r, f = dist(real, t_real), dist(fake, t_fake)
            r, f = (r.mean(), f.mean()) if reduce == "mean" else (r.sum(), f.sum())
        loss = (0.5 if half else 1.0) * (r + f)
        return torch.tensor(loss.item()) if detach else loss

    return fn


WRONG_LSGAN_D_LOSSES = {
    "BCE-with-logits": lsgan_d_with(kind="bce"),
    "swapped targets": lsgan_d_with(targets="swapped"),
    "missing the 1/2": lsgan_d_with(half=False),
    "sum instead of mean": lsgan_d_with(reduce="sum"),
    "squares of sigmoid(scores)": lsgan_d_with(kind="sigmoid"),
    "absolute instead of squared distance": lsgan_d_with(kind="abs"),
    "no gradient (float round trip)": lsgan_d_with(detach=True),
}


@pytest.mark.parametrize("name", WRONG_LSGAN_D_LOSSES)
def test_wrong_lsgan_discriminator_losses_fail(name):
    with pytest.raises(AssertionError):
        checks.check_lsgan_discriminator_loss(WRONG_LSGAN_D_LOSSES[name])


def test_right_lsgan_discriminator_loss_written_differently_passes():
    checks.check_lsgan_discriminator_loss(lambda r, f: 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f**2).mean())


class _BlankPool(cyclegan.ImagePool):
    def query(self, images):
        raise NotImplementedError("the blank")


@pytest.mark.parametrize(
    "check, blank",
    [
        (checks.check_cycle_loss, _blank),
        (checks.check_identity_loss, _blank),
        (checks.check_image_pool, _BlankPool),
        (checks.check_lsgan_discriminator_loss, _blank),
    ],
    ids=["cycle_loss", "identity_loss", "image_pool", "lsgan_discriminator_loss"],
)
def test_cyclegan_checks_let_a_blank_raise_its_own_error(check, blank):
    with pytest.raises(NotImplementedError):
        check(blank)


# --------------------------------------------------------------------------- notebook 08: perceptual loss
from pathlib import Path  # noqa: E402

from utils import perceptual  # noqa: E402


def test_perceptual_reference_solutions_pass(capsys):
    checks.check_gram_matrix(perceptual.gram_matrix)
    checks.check_style_loss(perceptual.style_loss)
    checks.check_content_loss(perceptual.content_loss)
    checks.check_total_variation(perceptual.total_variation)
    assert capsys.readouterr().out.count("✓") == 4


def test_stored_perceptual_reference_matches_utils_and_is_packaged():
    import tomllib

    fresh, stored = checks.perceptual_reference_values(), checks.load_perceptual_reference()
    torch.testing.assert_close(stored["gram"]["features"], fresh["gram"]["features"])
    for key in ("gram", "gram_square"):
        torch.testing.assert_close(stored[key]["expected"], fresh[key]["expected"])
        b, c, h, w = stored[key]["features"].shape
        assert stored[key]["expected"].shape == (b, c, c)
    assert stored["gram"]["features"].shape[1] != stored["gram"]["features"][0, 0].numel()  # non-square: C != H W
    for key in ("style", "content", "tv"):
        torch.testing.assert_close(stored[key]["expected"], fresh[key]["expected"])
    for layer, f in stored["style"]["feats"].items():
        assert f.shape[1] != f.shape[2] * f.shape[3], layer
    assert len(set(stored["style"]["layer_weights"].values())) == 3  # unequal weights: forgetting them shows
    assert checks.PERCEPTUAL_REFERENCE.parent.parent == Path(checks.__file__).parent
    config = tomllib.loads((Path(checks.__file__).parents[3] / "pyproject.toml").read_text())
    assert "reference/*.json" in config["tool"]["setuptools"]["package-data"]["utils.course.checks"]


def test_missing_perceptual_reference_says_how_to_regenerate(tmp_path):
    with pytest.raises(FileNotFoundError, match="make_check_references"):
        checks.load_perceptual_reference(tmp_path / "nope.json")
    checks.write_perceptual_reference(tmp_path / "again.json")
    torch.testing.assert_close(
        checks.load_perceptual_reference(tmp_path / "again.json")["tv"]["expected"],
        checks.load_perceptual_reference()["tv"]["expected"],
    )


def gram_with(norm="chw", transpose=False, batch=True, reshape="right", detach=False):
    def fn(x):
        b, c, h, w = x.shape
        flat = x.reshape(b, h * w, c).transpose(1, 2) if reshape == "mixed" else x.reshape(b, c, h * w)
        g = flat.transpose(1, 2) @ flat if transpose else flat @ flat.transpose(1, 2)
        g = g / {"chw": c * h * w, "hw": h * w, "none": 1, "c": c, "chw2": (c * h * w) ** 2}[norm]
        if not batch:
            g = g.sum(0)
        return g.detach() if detach else g

    return fn


WRONG_GRAMS = {
    "hw normalisation": (gram_with(norm="hw"), "hw"),
    "no normalisation": (gram_with(norm="none"), "no normalisation"),
    "divided by C": (gram_with(norm="c"), "F Fᵀ / C"),
    "divided by (CHW)^2": (gram_with(norm="chw2"), "once"),
    "F^T F (the transpose)": (gram_with(transpose=True), "Fᵀ F"),
    "batch dimension dropped": (gram_with(batch=False), "batch dimension is missing"),
    "wrong reshape (B, HW, C)": (gram_with(reshape="mixed"), "reshape"),
    "no gradient (detached)": (gram_with(detach=True), "autograd"),
}


@pytest.mark.parametrize("name", WRONG_GRAMS)
def test_wrong_gram_matrices_fail_with_the_right_hint(name):
    fn, hint = WRONG_GRAMS[name]
    with pytest.raises(AssertionError, match=hint):
        checks.check_gram_matrix(fn)


def test_transposed_gram_is_caught_by_value_on_a_square_input():
    ref = checks.load_perceptual_reference()["gram_square"]
    x = ref["features"]
    assert x.shape[1] == x.shape[2] * x.shape[3]  # C = H W: F^T F has the right shape here
    wrong = gram_with(transpose=True)(x)
    assert wrong.shape == ref["expected"].shape and not torch.allclose(wrong, ref["expected"], atol=1e-3)

    def transposed_only_when_square(x):  # slips past the shape test; only the square case's values can catch it
        c, hw = x.shape[1], x.shape[2] * x.shape[3]
        return gram_with(transpose=True)(x) if c == hw else perceptual.gram_matrix(x)

    with pytest.raises(AssertionError, match="square case.*Fᵀ F"):
        checks.check_gram_matrix(transposed_only_when_square)


def test_right_gram_written_differently_passes():
    checks.check_gram_matrix(lambda x: torch.einsum("bchw,bdhw->bcd", x, x) / x[0].numel())


def style_with(
    gram=perceptual.gram_matrix,
    reduce="sum",
    batch="mean",
    weights="right",
    layers="all",
    combine="sum",
    root=False,
    detach=False,
    norm_by_weights=False,
):
    def fn(feats, targets, layer_weights):
        total = 0.0
        names = list(targets)
        if layers == "first":
            names = names[:1]
        elif layers == "last":
            names = names[-1:]
        for name in names:
            d = (gram(feats[name]) - targets[name]).square()
            d = (
                d.sum(dim=(1, 2))
                if reduce == "sum"
                else d.mean(dim=(1, 2))
                if reduce == "mean"
                else d.abs().sqrt().sum(dim=(1, 2))
            )
            d = d.sqrt() if root else d
            d = d.mean() if batch == "mean" else d.sum() if batch == "sum" else d[0]
            w = {"right": layer_weights[name], "none": 1.0, "squared": layer_weights[name] ** 2}[weights]
            total = total + w * d
        if combine == "mean":
            total = total / len(names)
        if norm_by_weights:
            total = total / sum(layer_weights.values())
        return total.detach() if detach else total

    return fn


WRONG_STYLE_LOSSES = {
    "layer weights forgotten": (style_with(weights="none"), "layer weights are missing"),
    "layer weights squared": (style_with(weights="squared"), "squared"),
    "mean over the Gram entries": (style_with(reduce="mean"), "mean over the"),
    "L1 distance": (style_with(reduce="abs"), "L1"),
    "Frobenius norm, not squared": (style_with(root=True), "not squared"),
    "summed over the batch": (style_with(batch="sum"), "sum over the batch"),
    "first image only": (style_with(batch="first"), "first image"),
    "average over the layers": (style_with(combine="mean"), "average over the layers"),
    "normalised by the weights": (style_with(norm_by_weights=True), "sum of the weights"),
    "first layer only": (style_with(layers="first"), "one layer"),
    "last layer only": (style_with(layers="last"), "one layer"),
    "hw-normalised Gram": (style_with(gram=lambda f: perceptual.gram_matrix(f, "hw")), "normalised by C H W"),
    "raw Gram": (style_with(gram=lambda f: perceptual.gram_matrix(f, "none")), "normalised by C H W"),
    "features compared, not Grams": (
        lambda feats, targets, w: (
            sum(w[k] * (feats[k].mean() - targets[k].mean()) ** 2 for k in targets)
            if len(targets) > 1
            else sum((feats[k].mean() - targets[k].mean()) ** 2 for k in targets)
        ),
        "Gram",
    ),
    "no gradient (detached)": (style_with(detach=True), "autograd"),
}


@pytest.mark.parametrize("name", WRONG_STYLE_LOSSES)
def test_wrong_style_losses_fail_with_the_right_hint(name):
    fn, hint = WRONG_STYLE_LOSSES[name]
    with pytest.raises(AssertionError, match=hint):
        checks.check_style_loss(fn)


def test_right_style_loss_written_differently_passes():
    def loop(feats, targets, layer_weights):
        total = 0
        for name, target in targets.items():
            g = perceptual.gram_matrix(feats[name])
            total = total + layer_weights[name] * ((g - target) ** 2).sum() / g.shape[0]
        return total

    checks.check_style_loss(loop)


def content_with(reduce="mean", kind="l2", half=False, detach=False):
    def fn(feat, target):
        d = feat - target
        v = d.square() if kind in ("l2", "norm") else d.abs() if kind == "l1" else d
        v = {
            "mean": v.mean(),
            "sum": v.sum(),
            "per image": v.sum() / feat[0].numel(),
            "batch": v.sum() / feat.shape[0],
        }[reduce]
        v = 0.5 * v if half else v
        v = v.sqrt() if kind == "norm" else v
        return v.detach() if detach else v

    return fn


WRONG_CONTENT_LOSSES = {
    "sum instead of mean": (content_with(reduce="sum"), "sum of the squares"),
    "summed over the batch": (content_with(reduce="per image"), "summed over the batch"),
    "divided by the batch only": (content_with(reduce="batch"), "batch size only"),
    "L1": (content_with(kind="l1"), "L1"),
    "the norm": (content_with(kind="norm", reduce="sum"), "norm"),
    "a 1/2 in front": (content_with(half=True), "1/2"),
    "not squared": (content_with(kind="raw"), "square"),
    "no gradient (detached)": (content_with(detach=True), "autograd"),
}


@pytest.mark.parametrize("name", WRONG_CONTENT_LOSSES)
def test_wrong_content_losses_fail_with_the_right_hint(name):
    fn, hint = WRONG_CONTENT_LOSSES[name]
    with pytest.raises(AssertionError, match=hint):
        checks.check_content_loss(fn)


def test_right_content_loss_written_differently_passes():
    checks.check_content_loss(lambda f, t: F.mse_loss(f, t.expand_as(f)))


def tv_with(directions="both", kind="square", reduce="mean", combine="add", roll=False, detach=False):
    def fn(x):
        if roll:
            dx, dy = x - torch.roll(x, 1, dims=3), x - torch.roll(x, 1, dims=2)
        else:
            dx, dy = x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]
        f = (lambda d: d.square()) if kind == "square" else (lambda d: d.abs())
        r = (lambda d: d.mean()) if reduce == "mean" else (lambda d: d.sum())
        terms = {"both": [dx, dy], "horizontal": [dx], "vertical": [dy]}[directions]
        v = sum(r(f(d)) for d in terms)
        v = v / len(terms) if combine == "average" else v
        return v.detach() if detach else v

    return fn


WRONG_TVS = {
    "horizontal only": (tv_with(directions="horizontal"), "one direction.*vertical"),
    "vertical only": (tv_with(directions="vertical"), "one direction.*horizontal"),
    "absolute differences (beta = 1)": (tv_with(kind="abs"), r"\|\.\|"),
    "sum instead of mean": (tv_with(reduce="sum"), "sum"),
    "average of the two directions": (tv_with(combine="average"), "average of the two"),
    "torch.roll wraps around": (tv_with(roll=True), "roll"),
    "no gradient (detached)": (tv_with(detach=True), "autograd"),
}


@pytest.mark.parametrize("name", WRONG_TVS)
def test_wrong_total_variations_fail_with_the_right_hint(name):
    fn, hint = WRONG_TVS[name]
    with pytest.raises(AssertionError, match=hint):
        checks.check_total_variation(fn)


def test_right_total_variation_written_differently_passes():
    checks.check_total_variation(lambda x: x.diff(dim=-1).pow(2).mean() + x.diff(dim=-2).pow(2).mean())


@pytest.mark.parametrize(
    "check",
    [checks.check_gram_matrix, checks.check_style_loss, checks.check_content_loss, checks.check_total_variation],
    ids=lambda c: c.__name__,
)
def test_perceptual_checks_let_a_blank_raise_its_own_error(check):
    with pytest.raises(NotImplementedError):
        check(_blank)


# --------------------------------------------------------------------------- notebook 10: the passcode input
from utils import passcode  # noqa: E402


def _planes(codes, h, w):
    return codes[:, :, None, None].expand(codes.shape[0], codes.shape[1], h, w)


def _one_row(x, c):
    planes = torch.zeros(x.shape[0], c.shape[1], x.shape[2], x.shape[3])
    planes[:, :, 0, :] = c[:, :, None]
    return torch.cat([x, planes], dim=1)


WRONG_PASSCODE_INPUTS = {
    "codes only in the first row (not tiled over H)": (_one_row, "only the first row"),
    "codes repeated, not tiled (bits mixed up)": (
        lambda x, c: torch.cat(
            [x, c.repeat(1, x.shape[2] * x.shape[3]).reshape(c.shape[0], c.shape[1], *x.shape[2:])], 1
        ),
        "not tiled over H and W",
    ),
    "code planes before the image": (lambda x, c: torch.cat([_planes(c, *x.shape[2:]), x], dim=1), "planes first"),
    "repeat instead of repeat_interleave (samples mixed up)": (
        lambda x, c: torch.cat(
            [x, c.repeat(x.shape[2] * x.shape[3], 1).reshape(c.shape[0], c.shape[1], *x.shape[2:])], 1
        ),
        "not tiled|another sample",
    ),
    "the first sample's code for every image": (
        lambda x, c: torch.cat([x, _planes(c[:1].expand_as(c), *x.shape[2:])], 1),
        "another sample's passcode",
    ),
    "batch rolled by one": (
        lambda x, c: torch.cat([x, _planes(c.roll(1, 0), *x.shape[2:])], dim=1),
        "another sample's passcode",
    ),
    "bits as {0, 1}": (lambda x, c: torch.cat([x, _planes((c + 1) / 2, *x.shape[2:])], dim=1), "0 and 1"),
    "image dropped": (lambda x, c: _planes(c, *x.shape[2:]).clone(), "image was dropped"),
    "concatenated on the batch dimension": (lambda x, c: torch.cat([x, x], dim=0), "dim=0"),
    "H and W swapped": (lambda x, c: torch.cat([x.transpose(2, 3), _planes(c, x.shape[3], x.shape[2])], 1), "swapped"),
    "bits negated": (lambda x, c: torch.cat([x, _planes(-c, *x.shape[2:])], dim=1), "plane k of sample i"),
    "no gradient to the image": (lambda x, c: torch.cat([x.detach(), _planes(c, *x.shape[2:])], dim=1), "gradient"),
    "fixed 4 bits": (lambda x, c: torch.cat([x, _planes(c[:, :4], *x.shape[2:])], dim=1), "17 channels"),
}


def test_reference_passcode_input_passes(capsys):
    checks.check_passcode_input(passcode.passcode_input)
    assert capsys.readouterr().out.count("✓") == 1


@pytest.mark.parametrize("name", WRONG_PASSCODE_INPUTS)
def test_wrong_passcode_inputs_fail_with_the_right_hint(name):
    fn, hint = WRONG_PASSCODE_INPUTS[name]
    with pytest.raises(AssertionError, match=hint):
        checks.check_passcode_input(fn)


def test_right_passcode_inputs_written_differently_pass():
    checks.check_passcode_input(
        lambda x, c: torch.cat(
            [x, c.repeat_interleave(x.shape[2] * x.shape[3], dim=1).reshape(c.shape[0], c.shape[1], *x.shape[2:])],
            dim=1,
        )
    )
    checks.check_passcode_input(lambda x, c: torch.cat([x, c.view(*c.shape, 1, 1) * torch.ones(1, 1, *x.shape[2:])], 1))


def test_passcode_check_lets_a_blank_raise_its_own_error():
    def blank(x, c):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        checks.check_passcode_input(blank)


# --------------------------------------------------------------------------- notebook 10: video translation
from utils import video  # noqa: E402


def flicker_with(mask="same", kind="abs", reduce="mean", channels="mean", pairs="consecutive", pooled=True):
    def fn(frames, labels):
        if pairs == "first":
            a, b, la, lb = frames[1:], frames[:1], labels[1:], labels[:1]
        elif pairs == "roll":
            a, b, la, lb = frames, frames.roll(1, 0), labels, labels.roll(1, 0)
        elif pairs == "drop_last":
            a, b, la, lb = frames[1:-1], frames[:-2], labels[1:-1], labels[:-2]
        elif pairs == "two_apart":
            a, b, la, lb = frames[2:], frames[:-2], labels[2:], labels[:-2]
        else:
            a, b, la, lb = frames[1:], frames[:-1], labels[1:], labels[:-1]
        d = (a - b).abs() if kind == "abs" else (a - b).square()
        d = {"mean": d.mean(1), "sum": d.sum(1), "first": d[:, 0]}[channels]
        if mask == "zeros":
            return (d * (la == lb)).mean()
        same = {"same": la == lb, "none": torch.ones_like(la, dtype=torch.bool), "inverted": la != lb}[mask]
        if not pooled:
            return torch.stack([d[t][same[t]].mean() for t in range(len(d))]).mean()
        return d[same].sum() if reduce == "sum" else d[same].mean()

    return fn


WRONG_FLICKERS = {
    "not masking changed-label pixels": (flicker_with(mask="none"), "every pixel"),
    "masking the wrong pixels": (flicker_with(mask="inverted"), "CHANGES"),
    "changed pixels counted as zeros": (flicker_with(mask="zeros"), "number of unchanged pixels"),
    "squared differences": (flicker_with(kind="square"), "squares"),
    "sum instead of mean": (flicker_with(reduce="sum"), "sum"),
    "channels summed": (flicker_with(channels="sum"), "sums over the channels"),
    "channel 0 only": (flicker_with(channels="first"), "channel 0"),
    "compared with the first frame": (flicker_with(pairs="first"), "first one"),
    "wrap-around pairs (torch.roll)": (flicker_with(pairs="roll"), "wraps around"),
    "the last pair left out": (flicker_with(pairs="drop_last"), "last pair"),
    "frames two apart": (flicker_with(pairs="two_apart"), "two apart"),
    "mean of the per-pair means": (flicker_with(pooled=False), "pool"),
}


@pytest.mark.parametrize("name", WRONG_FLICKERS)
def test_wrong_flickers_fail_with_the_right_hint(name):
    fn, hint = WRONG_FLICKERS[name]
    with pytest.raises(AssertionError, match=hint):
        checks.check_flicker(fn)


def test_reference_flicker_passes(capsys):
    checks.check_flicker(video.flicker)
    checks.check_flicker(lambda f, lab: (f.diff(dim=0).abs().mean(1))[lab.diff(dim=0) == 0].mean())  # a tensor is fine
    assert capsys.readouterr().out.count("✓") == 2


def test_flicker_check_rejects_a_per_pixel_map():
    with pytest.raises(AssertionError, match="one number"):
        checks.check_flicker(lambda f, _lab: (f[1:] - f[:-1]).abs().mean(1))


def test_flicker_check_lets_a_blank_raise_its_own_error():
    with pytest.raises(NotImplementedError):
        checks.check_flicker(_blank)


# --------------------------------------------------------------------------- notebook 10: the detector's step
from utils import deepfake  # noqa: E402


def _det_step(
    labels: str = "right",
    reduce: str = "mean",
    detach: bool = True,
    zero: bool = True,
    step: bool = True,
    halves: str = "both",
):
    def fn(detector, optimiser, real, fake):
        fk = fake.detach() if detach else fake
        parts = {"both": [real, fk], "real": [real], "fake": [fk]}[halves]
        logits = detector(torch.cat(parts))
        ones, zeros = torch.ones(len(real), 1), torch.zeros(len(fake), 1)
        target = {"both": [ones, zeros], "real": [ones], "fake": [zeros]}[halves]
        target = torch.cat(target)
        if labels == "swapped":
            target = 1 - target
        loss = F.binary_cross_entropy_with_logits(logits, target, reduction=reduce)
        if zero:
            optimiser.zero_grad()
        loss.backward()
        if step:
            optimiser.step()
        return loss

    return fn


WRONG_DETECTOR_STEPS = {
    "labels swapped": (_det_step(labels="swapped"), "swapped"),
    "summed, not averaged": (_det_step(reduce="sum"), "summed"),
    "fakes not detached": (_det_step(detach=False), "Detach"),
    "gradients never zeroed": (_det_step(zero=False), "zero_grad"),
    "no optimiser step": (_det_step(step=False), r"optimiser.step\(\)"),
    "real images only": (_det_step(halves="real"), "fake images too"),
    "fake images only": (_det_step(halves="fake"), "real images too"),
    "returns nothing": (lambda d, o, r, f: None, "return the loss"),
}


@pytest.mark.parametrize("name", WRONG_DETECTOR_STEPS)
def test_wrong_detector_steps_fail_with_the_right_hint(name):
    fn, hint = WRONG_DETECTOR_STEPS[name]
    with pytest.raises(AssertionError, match=hint):
        checks.check_detector_step(fn)


def test_right_detector_steps_pass(capsys):
    checks.check_detector_step(deepfake.detector_step)

    def two_means(detector, optimiser, real, fake):  # the mean of the two halves' means: the same for equal halves
        optimiser.zero_grad()
        loss = (
            F.binary_cross_entropy_with_logits(detector(real), torch.ones(len(real), 1))
            + F.binary_cross_entropy_with_logits(detector(fake.detach()), torch.zeros(len(fake), 1))
        ) / 2
        loss.backward()
        optimiser.step()
        return loss.item()

    checks.check_detector_step(two_means)
    assert capsys.readouterr().out.count("✓") == 2


def test_an_error_inside_the_learners_function_names_the_function_and_its_arguments():
    def gaussian_nll(x, mean, log_std):
        return (x - mean.T).sum()  # a shape bug in the learner's code

    with pytest.raises(RuntimeError) as info:
        checks.check_gaussian_nll(gaussian_nll)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    if sys.version_info >= (3, 11):
        assert "YOUR gaussian_nll" in notes and "check_gaussian_nll" in notes and "shape (3, 2)" in notes


def test_the_blanks_say_so_and_the_checks_own_failures_are_left_alone():
    def blank(x, mean, log_std):
        raise NotImplementedError("Exercise: fill in this block")

    with pytest.raises(NotImplementedError) as info:  # still the blank's error (the lessons' test expects it) ...
        checks.check_gaussian_nll(blank)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    if sys.version_info >= (3, 11):  # ... with one line saying what to do about it
        assert "blank is still the blank" in notes and "run that cell" in notes, notes
    with pytest.raises(AssertionError) as info:
        checks.check_gaussian_nll(lambda x, mean, log_std: (x - mean).square().sum())
    assert not getattr(info.value, "__notes__", [])
