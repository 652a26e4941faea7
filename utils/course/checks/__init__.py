"""Automatic checks for the exercises in ``lessons/``.

Each ``check_*`` calls the learner's function on known cases (values worked out by hand) and on stored
reference values (computed once from the course's reference implementation), raises ``AssertionError``
with a hint when something is off, and prints a line saying what passed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

# Fixed inputs for the stored reference values (no randomness, so they are the same on every machine).
_REAL = torch.linspace(-3, 3, 7).reshape(7, 1)
_FAKE = torch.linspace(-2, 4, 7).reshape(7, 1)
_STORED_D_LOSS = 2.75870943069458  # discriminator_loss(_REAL, _FAKE)
_STORED_G_LOSS_NS = 0.6628947854042053  # generator_loss_nonsaturating(_FAKE)


def _scalar(value: object, what: str) -> float:
    if not isinstance(value, Tensor):
        raise AssertionError(f"{what} must return a torch.Tensor, got {type(value).__name__}")
    if value.numel() != 1:
        raise AssertionError(f"{what} must return a scalar (mean over the batch), got shape {tuple(value.shape)}")
    return float(value)


def _expect(got: float, expected: float, case: str, hint: str = "", tol: float = 1e-4) -> None:
    if not math.isclose(got, expected, rel_tol=tol, abs_tol=tol):
        raise AssertionError(f"{case}: expected {expected:.6g}, got {got:.6g}. {hint}".strip())


def _backward(loss: Tensor, what: str) -> None:
    try:
        loss.backward()
    except RuntimeError as err:
        raise AssertionError(
            f"{what}: autograd cannot differentiate your result ({err}). Build it from the input "
            "logits with torch operations only (no .item(), float() or NumPy)."
        ) from None


def check_discriminator_loss(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(real_logits (N, 1), fake_logits (N, 1)) -> scalar`` against -E[log D(x)] - E[log(1 - D(G(z)))]."""
    zeros = torch.zeros(4, 1)
    _expect(
        _scalar(fn(zeros, zeros), "discriminator_loss"),
        2 * math.log(2),
        "D(x) = 1/2 everywhere (logits 0)",
        "Each term is -log(1/2) = log 2.",
    )
    big = torch.full((4, 1), 8.0)
    _expect(
        _scalar(fn(big, -big), "discriminator_loss"),
        2 * math.log1p(math.exp(-8)),
        "a confident, correct D (real logits +8, fake logits -8)",
        "The loss should be near 0 when D is right: did you swap the real and fake terms?",
    )
    _expect(
        _scalar(fn(-big, big), "discriminator_loss"),
        2 * math.log1p(math.exp(8)),
        "a confident, wrong D (real logits -8, fake logits +8)",
        "Use softplus (or log-sigmoid) on logits, not sigmoid then log, to stay finite.",
    )
    _expect(
        _scalar(fn(_REAL, _FAKE), "discriminator_loss"),
        _STORED_D_LOSS,
        "the stored reference case",
        "Average each term over its batch, then add the two terms.",
    )
    huge = torch.full((4, 1), 200.0)  # float32: sigmoid(-200) is exactly 0 and sigmoid(200) exactly 1
    _expect(
        _scalar(fn(-huge, huge), "discriminator_loss"),
        400.0,
        "a badly wrong D (real logits -200, fake logits +200; the loss is 200 + 200)",
        "log(sigmoid(l)) gives -inf once sigmoid underflows to 0: use softplus on the logits "
        "(-log sigmoid(l) = softplus(-l), -log(1 - sigmoid(l)) = softplus(l)) or F.logsigmoid.",
    )
    real = _REAL.clone().requires_grad_(True)
    _backward(fn(real, _FAKE), "discriminator_loss")
    if real.grad is None or not torch.allclose(real.grad, -torch.sigmoid(-_REAL) / len(_REAL), atol=1e-5):
        raise AssertionError(
            "the gradient with respect to the real logits is not -(1 - D(x)) / N: "
            "compute the loss from the logits with torch operations so autograd can follow it."
        )
    print("✓ discriminator_loss passes 6 checks (known cases, stored reference, very large logits, gradient)")


def check_generator_loss_nonsaturating(fn: Callable[[Tensor], Tensor]) -> None:
    """Check ``fn(fake_logits (N, 1)) -> scalar`` against the non-saturating loss -E[log D(G(z))]."""
    _expect(
        _scalar(fn(torch.zeros(4, 1)), "generator_loss"), math.log(2), "D(G(z)) = 1/2 (logits 0)", "-log(1/2) = log 2."
    )
    _expect(
        _scalar(fn(_FAKE), "generator_loss"),
        _STORED_G_LOSS_NS,
        "the stored reference case",
        "The non-saturating loss is -mean(log D(G(z))) = mean(softplus(-logits)).",
    )
    _expect(
        _scalar(fn(torch.full((4, 1), -200.0)), "generator_loss"),
        200.0,
        "D rejects the fakes completely (logits -200; -log sigmoid(-200) = 200)",
        "log(sigmoid(l)) gives -inf once sigmoid underflows to 0 (float32, l = -200): "
        "use softplus(-logits) or -F.logsigmoid(logits).",
    )
    # The point of the exercise: where D confidently rejects the fakes, the gradient must not vanish.
    fake = torch.full((4, 1), -8.0, requires_grad=True)
    _backward(fn(fake), "generator_loss")
    grad = fake.grad
    if grad is None:
        raise AssertionError("no gradient reached the fake logits: build the loss from them with torch operations")
    expected = -(1 - torch.sigmoid(torch.tensor(-8.0))) / 4
    if not torch.allclose(grad, torch.full_like(grad, float(expected)), atol=1e-5):
        raise AssertionError(
            f"where D rejects the fakes (logit -8) the gradient per sample should be about {float(expected):.4f}, "
            f"got {grad.flatten().tolist()}. A gradient near 0 means the saturating loss log(1 - D(G(z))): "
            "minimise -log D(G(z)) instead."
        )
    print(
        "✓ generator_loss_nonsaturating passes 4 checks (known case, stored reference, very large logits, gradient "
        "where D rejects fakes)"
    )


def check_mode_coverage(fn: Callable[[Tensor, Tensor, float], tuple[int, float]]) -> None:
    """Check ``fn(samples (N, 2), modes (K, 2), std) -> (modes_captured, high_quality_fraction)``."""
    from ...data import ring

    mix = ring()
    modes, std = mix.modes, mix.std

    def run(samples: Tensor, case: str) -> tuple[int, float]:
        out = fn(samples, modes, std)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise AssertionError(f"{case}: return a tuple (modes_captured, high_quality_fraction), got {out!r}")
        return int(out[0]), float(out[1])

    captured, hq = run(modes[:3].clone(), "samples exactly on 3 modes")
    if (captured, round(hq, 4)) != (3, 1.0):
        raise AssertionError(f"samples exactly on 3 of the 8 modes: expected (3, 1.0), got ({captured}, {hq})")
    direction = torch.tensor([[0.6, 0.8]])
    inside = modes[:1] + 2.9 * std * direction
    outside = modes[1:2] + 3.1 * std * direction
    captured, hq = run(torch.cat([inside, outside]), "one sample at 2.9 std, one at 3.1 std")
    if (captured, round(hq, 4)) != (1, 0.5):
        raise AssertionError(
            f"one sample 2.9 std from a mode and one 3.1 std from another: expected (1, 0.5), got ({captured}, {hq}). "
            "High quality means a Euclidean distance to the nearest mode below 3 * std."
        )
    far = torch.zeros(10, 2)  # the centre of the ring: nearest to some mode, but far from all of them
    captured, hq = run(far, "samples at the centre of the ring")
    if (captured, hq) != (0, 0.0):
        raise AssertionError(
            f"samples far from every mode must capture nothing: expected (0, 0.0), got ({captured}, {hq}). "
            "A mode counts only when a *high-quality* sample is nearest to it."
        )
    x, _ = mix.sample(20000, torch.Generator().manual_seed(0))
    captured, hq = run(x, "20,000 samples of the true ring")
    expected_hq = 1 - math.exp(-4.5)  # P(|z| < 3) for a 2-D standard Gaussian
    if captured != 8 or abs(hq - expected_hq) > 0.005:
        raise AssertionError(
            f"samples of the true distribution: expected 8 modes and about {expected_hq:.3f} high quality "
            f"(1 - exp(-9/2) in 2-D), got ({captured}, {hq:.3f})"
        )
    print("✓ mode_coverage passes 4 checks (exact modes, the 3-std boundary, far samples, the true distribution)")


# Fixed inputs for the Gaussian exercises of notebook 01.
_X = torch.linspace(-1, 1, 8).reshape(4, 2)
_MEAN = torch.linspace(0.5, -0.5, 8).reshape(4, 2)
_LOG_STD = torch.linspace(-1, 0.5, 8).reshape(4, 2)
_STORED_NLL = 4.517394065856934  # gaussian_nll(_X, _MEAN, _LOG_STD)


def check_gaussian_nll(fn: Callable[[Tensor, Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(x (N, D), mean (N, D), log_std (N, D)) -> scalar``: the mean over points of the summed NLL."""
    zeros = torch.zeros(3, 2)
    _expect(
        _scalar(fn(zeros, zeros, zeros), "gaussian_nll"),
        math.log(2 * math.pi),
        "x = mean, std = 1, two dimensions",
        "At the mean, each dimension contributes log(std) + log(2 pi) / 2.",
    )
    _expect(
        _scalar(fn(torch.full((3, 2), 2.0), zeros, zeros), "gaussian_nll"),
        4 + math.log(2 * math.pi),
        "x two std from the mean in both dimensions",
        "The squared term is (x - mean)^2 / (2 std^2) per dimension.",
    )
    _expect(
        _scalar(fn(zeros, zeros, torch.full((3, 2), math.log(0.1))), "gaussian_nll"),
        2 * math.log(0.1) + math.log(2 * math.pi),
        "std = 0.1 at the mean",
        "Did you forget the log(std) term? It is what stops the model from making std huge.",
    )
    _expect(
        _scalar(fn(_X, _MEAN, _LOG_STD), "gaussian_nll"),
        _STORED_NLL,
        "the stored reference case",
        "Sum over the dimensions of a point, then average over the points; std = exp(log_std).",
    )
    print("✓ gaussian_nll passes 4 checks (known cases, stored reference)")


def check_reparameterised_sample(fn: Callable[[Tensor, Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(mean (N, D), log_std (N, D), z (N, D)) -> x (N, D)``, the sample x = mean + exp(log_std) * z."""
    mean = _MEAN.clone().requires_grad_(True)
    log_std = _LOG_STD.clone().requires_grad_(True)
    z = torch.linspace(-2, 2, 8).reshape(4, 2)
    x = fn(mean, log_std, z)
    if not isinstance(x, Tensor) or x.shape != mean.shape:
        raise AssertionError(f"return one sample per row, a tensor of shape {tuple(mean.shape)}")
    expected = _MEAN + _LOG_STD.exp() * z
    if not torch.allclose(x.detach(), expected, atol=1e-5):
        hint = (
            "you used log_std itself as the standard deviation"
            if torch.allclose(x.detach(), _MEAN + _LOG_STD * z, atol=1e-5)
            else "the standard deviation is exp(log_std)"
        )
        raise AssertionError(f"x = mean + std * z does not match: {hint}")
    _backward(x.sum(), "sample")
    if mean.grad is None or log_std.grad is None or not torch.allclose(log_std.grad, _LOG_STD.exp() * z, atol=1e-5):
        raise AssertionError(
            "gradients must flow to mean and log_std (that is the point of the reparameterisation): "
            "compute x from them with torch operations, and take z as given"
        )
    print("✓ reparameterised sample passes 2 checks (values, gradients to mean and log_std)")


# --------------------------------------------------------------------------- notebook 04: DCGAN and the conditional GAN
# (size, kernel, stride, padding, output_padding) -> output size, worked out by hand with (i - 1) s - 2p + k + op.
_CONVT_CASES = {
    (1, 4, 1, 0, 0): 4,  # the DCGAN's first layer: a 1x1 noise "image" becomes a 4x4 map
    (4, 4, 2, 1, 0): 8,  # kernel 4, stride 2, padding 1 doubles the side
    (7, 4, 2, 1, 0): 14,
    (5, 3, 1, 1, 0): 5,  # stride 1 with "same" padding keeps the side
    (3, 3, 2, 1, 1): 6,  # output_padding adds one row and column at the end
    (2, 5, 3, 0, 0): 8,
}


def check_conv_transpose_output_size(fn: Callable[[int, int, int, int, int], int]) -> None:
    """Check ``fn(size, kernel, stride, padding, output_padding) -> int``, the output side of ``nn.ConvTranspose2d``."""
    for (i, k, s, p, op), expected in _CONVT_CASES.items():
        got = fn(i, k, s, p, op)
        if not isinstance(got, int) or isinstance(got, bool):
            raise AssertionError(f"return an int (a number of pixels), got {type(got).__name__} {got!r}")
        if got != expected:
            hint = (
                "that is the formula of an ordinary convolution, floor((i + 2p - k) / s) + 1; a transposed "
                "convolution runs it backwards"
                if got == (i + 2 * p - k) // s + 1
                else "the input has i - 1 gaps of s pixels between its first and last position, so (i - 1) s, not i s"
                if got == i * s - 2 * p + k + op
                else "padding crops p pixels on *each* side: subtract 2p"
                if got == (i - 1) * s - p + k + op
                else "output_padding adds op pixels at the end"
                if got == (i - 1) * s - 2 * p + k
                else "off by one? The formula is (i - 1) s - 2p + k + output_padding"
            )
            raise AssertionError(
                f"size {i}, kernel {k}, stride {s}, padding {p}, output_padding {op}: "
                f"expected {expected}, got {got}. {hint}"
            )
    # The stored reference: PyTorch's own layers (output_padding must be smaller than the stride).
    n = 0
    for i in (1, 3, 6):
        for k in (1, 2, 3, 4, 5):
            for s in (1, 2, 3):
                for p in range(0, (k + 1) // 2):
                    for op in range(s):
                        layer = torch.nn.ConvTranspose2d(1, 1, k, s, p, op)
                        actual = layer(torch.zeros(1, 1, i, i)).shape[-1]
                        got = fn(i, k, s, p, op)
                        if got != actual:
                            raise AssertionError(
                                f"nn.ConvTranspose2d(1, 1, kernel_size={k}, stride={s}, padding={p}, "
                                f"output_padding={op}) maps size {i} to {actual}, you give {got}"
                            )
                        n += 1
    print(
        f"✓ conv_transpose_output_size passes {len(_CONVT_CASES) + n} checks "
        f"({len(_CONVT_CASES)} worked by hand, {n} against nn.ConvTranspose2d)"
    )


def check_dcgan_init(fn: Callable[[torch.nn.Module], None]) -> None:
    """Check ``fn(module)``, applied with ``model.apply(fn)``: weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02), biases 0."""
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.ConvTranspose2d(64, 32, 4), nn.BatchNorm2d(4096), nn.Conv2d(32, 64, 4), nn.Linear(256, 128)
    )
    model.apply(fn)
    layers = {"ConvTranspose2d": model[0], "Conv2d": model[2], "Linear": model[3]}
    for name, layer in layers.items():
        w = layer.weight.detach()
        mean, std = float(w.mean()), float(w.std())
        if abs(std - 0.02) > 0.001 or abs(mean) > 0.001:
            hint = (
                "0.02 is the standard deviation, not the variance: nn.init.normal_(w, 0.0, 0.02)"
                if abs(std - 0.0004) < 0.0001
                else "uniform(-0.02, 0.02) has standard deviation 0.0115: draw from a normal distribution"
                if abs(std - 0.02 / math.sqrt(3)) < 0.001
                else f"did your function reach {name} layers? Test isinstance(module, nn.{name}) (a transposed "
                "convolution is not an nn.Conv2d)"
                if std > 0.025 or std < 0.015
                else ""
            )
            raise AssertionError(
                f"{name} weights should be ~ N(0, 0.02), got mean {mean:.4f} and std {std:.4f}. {hint}"
            )
        if layer.bias is not None and bool(layer.bias.detach().abs().max() > 0):
            raise AssertionError(
                f"{name} biases should be set to 0 (nn.init.zeros_), got values up to "
                f"{float(layer.bias.detach().abs().max()):.3g}"
            )
    bn = model[1]
    mean, std = float(bn.weight.detach().mean()), float(bn.weight.detach().std())
    if abs(mean - 1) > 0.002 or abs(std - 0.02) > 0.002:
        raise AssertionError(
            f"BatchNorm2d scales (weight) should be ~ N(1, 0.02), got mean {mean:.4f} and std {std:.4f}"
            + (": a scale near 0 switches the layer off; centre them on 1" if abs(mean) < 0.1 else "")
        )
    if bool(bn.bias.detach().abs().max() > 0):
        raise AssertionError("BatchNorm2d shifts (bias) should be 0")
    print(
        "✓ dcgan_init passes 9 checks (transposed conv, conv and linear weights and biases, batch norm scale and shift)"
    )


_Z_STORED = torch.linspace(-2, 2, 20).reshape(5, 4)
_LABELS_STORED = torch.tensor([4, 0, 3, 3, 1])
_STORED_COND_INPUT = (
    429.4210510253906  # (conditional_input(_Z_STORED, _LABELS_STORED, 5) * arange(45).reshape(5, 9)).sum()
)


def check_conditional_input(fn: Callable[[Tensor, Tensor, int], Tensor]) -> None:
    """Check ``fn(z (N, z_dim), labels (N,), n_classes) -> (N, z_dim + n_classes)``: z, then the one-hot labels."""
    z = torch.linspace(-1, 1, 12).reshape(4, 3)
    labels = torch.tensor([2, 0, 1, 2])
    out = fn(z, labels, 3)
    if not isinstance(out, Tensor):
        raise AssertionError(f"return a torch.Tensor, got {type(out).__name__}")
    if out.shape != (4, 6):
        hint = (
            "the labels went in as one number per row: encode them one-hot, one column per class"
            if out.shape == (4, 4)
            else "concatenate along dim=1 (the features), not dim=0 (the batch)"
            if out.shape[0] != 4
            else "one column per class: n_classes columns, whatever the labels in the batch"
            if out.shape[0] == 4
            else ""
        )
        raise AssertionError(
            f"z (4, 3) with labels of 3 classes must give shape (4, 6), got {tuple(out.shape)}. {hint}"
        )
    if not torch.is_floating_point(out):
        raise AssertionError(f"return a floating-point tensor (the generator's input), got {out.dtype}")
    if not torch.allclose(out[:, :3], z):
        raise AssertionError("the first z_dim columns must be z itself, unchanged: put z first, then the one-hot code")
    expected = torch.tensor([[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=out.dtype)
    if not torch.equal(out[:, 3:], expected):
        raise AssertionError(
            f"the last columns must be the one-hot labels {expected.tolist()}, got {out[:, 3:].tolist()}"
            ": row i has a 1 in column labels[i] and 0 elsewhere (torch.nn.functional.one_hot)"
        )
    wide = fn(torch.zeros(2, 5), torch.tensor([0, 1]), 10)
    if tuple(wide.shape) != (2, 15):
        raise AssertionError(
            f"with n_classes=10 and z_dim=5 the input has 15 columns, got {tuple(wide.shape)}: "
            "use n_classes, not the largest label in the batch"
        )
    stored = fn(_Z_STORED, _LABELS_STORED, 5)
    weights = torch.arange(45, dtype=torch.float32).reshape(5, 9)
    _expect(float((stored * weights).sum()), _STORED_COND_INPUT, "the stored reference case")
    zg = z.clone().requires_grad_(True)
    _backward(fn(zg, labels, 3).sum(), "conditional_input")
    if zg.grad is None or not torch.allclose(zg.grad, torch.ones_like(z)):
        raise AssertionError("the gradient must flow back to z unchanged: build the result with torch.cat")
    print("✓ conditional_input passes 6 checks (shape, z first, one-hot labels, n_classes, stored reference, gradient)")


# --------------------------------------------------------------------------- notebook 03: mode collapse
_PACK_X = torch.linspace(-1, 1, 16).reshape(8, 2)
_STORED_PACK = 45.33333206176758  # (pack(_PACK_X, 4) * arange(16).reshape(2, 8)).sum()
_MBSTD_H = torch.linspace(-2, 3, 12).reshape(4, 3) ** 2
_STORED_MBSTD = 2.5743815898895264  # minibatch_std(_MBSTD_H)[0, -1]
_STORED_RING_KL = 8.139448942116705e-05  # mode_histogram_kl of 20,000 ring samples (torch.Generator seed 0)


def _value(result: object, what: str) -> float:
    """Like ``_scalar``, without the warning that float() of a tensor that requires grad gives."""
    return _scalar(result.detach() if isinstance(result, Tensor) else result, what)


def check_pack(fn: Callable[[Tensor, int], Tensor]) -> None:
    """Check ``fn(x (N, d), m) -> (N / m, m * d)``: PacGAN's packing of m consecutive samples into one row."""
    x = torch.arange(12.0).reshape(6, 2)
    out = fn(x, 2)
    if not isinstance(out, Tensor) or tuple(out.shape) != (3, 4):
        raise AssertionError(
            f"pack(x (6, 2), m=2) must have shape (3, 4), got {getattr(out, 'shape', type(out).__name__)}"
        )
    if out.tolist() != [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]:
        raise AssertionError(
            f"pack(arange(12).reshape(6, 2), 2) should be [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] "
            f"(samples 0 and 1 side by side, then 2 and 3, ...), got {out.tolist()}. Each row must hold "
            "whole samples, one after the other: x.reshape(N // m, m * d) keeps them in order; a "
            "transpose interleaves coordinates of different samples."
        )
    out3 = fn(x, 3)
    if tuple(out3.shape) != (2, 6) or out3.tolist() != [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]:
        raise AssertionError(f"pack(x, 3) should be [[0, ..., 5], [6, ..., 11]], got {out3.tolist()}")
    if not torch.equal(fn(x, 1), x):
        raise AssertionError("pack(x, 1) must return x unchanged (a pack of one sample is the sample)")
    _expect(float((fn(_PACK_X, 4) * torch.arange(16.0).reshape(2, 8)).sum()), _STORED_PACK, "the stored reference case")
    try:
        fn(torch.zeros(5, 2), 2)
    except ValueError:
        pass
    else:
        raise AssertionError(
            "pack(x (5, 2), m=2) must raise ValueError: 5 samples do not split into packs of 2 "
            "(silently dropping or mixing samples would change what D sees)"
        )
    print("✓ pack passes 5 checks (order of samples, m = 3, m = 1, stored reference, bad batch size)")


def check_minibatch_std(fn: Callable[[Tensor], Tensor]) -> None:
    """Check ``fn(h (N, F)) -> (N, F + 1)``: h with one more column, the batch's standard deviation averaged over F."""
    h = torch.tensor([[0.0, 1.0, 5.0], [2.0, 1.0, 1.0]])
    out = fn(h)
    if not isinstance(out, Tensor) or tuple(out.shape) != (2, 4):
        raise AssertionError(
            f"for h of shape (2, 3) the result must have shape (2, 4): h plus ONE column, got "
            f"{getattr(out, 'shape', type(out).__name__)}. Average the per-feature deviations into one number."
        )
    if not torch.equal(out[:, :3], h):
        raise AssertionError(
            "the first F columns must be h itself, unchanged; append the new feature as the last column"
        )
    col = out[:, 3]
    if not torch.allclose(col, col[0].expand_as(col)):
        raise AssertionError(
            f"the new column must hold the same value in every row (one statistic of the batch), got {col.tolist()}"
        )
    _expect(
        float(col[0].detach()),
        1.0,
        "h = [[0, 1, 5], [2, 1, 1]]: feature std 1, 0, 2 over the batch, mean 1",
        "Take the standard deviation over the batch (dim 0), with the population formula (unbiased=False), "
        "then average over the features.",
    )
    same = fn(torch.ones(5, 3))
    _expect(
        float(same[0, 3].detach()),
        0.0,
        "five identical rows (a fully collapsed batch)",
        "Identical samples have no spread.",
        tol=1e-3,
    )
    _expect(float(fn(_MBSTD_H)[0, -1].detach()), _STORED_MBSTD, "the stored reference case")
    hg = _MBSTD_H.clone().requires_grad_(True)
    _backward(fn(hg)[:, -1].sum(), "minibatch_std")
    if hg.grad is None or hg.grad.abs().sum() == 0:
        raise AssertionError("no gradient reaches h through the new feature: D must be able to learn from the spread")
    print(
        "✓ minibatch_std passes 6 checks (shape, h kept, one value per batch, known case, collapsed batch, stored reference and gradient)"
    )


def check_gradient_penalty(fn: Callable[[torch.nn.Module, Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(critic, real (N, 2), fake (N, 2)) -> scalar``: WGAN-GP's E[(||grad f(x_hat)|| - 1)^2]."""
    critic = torch.nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))
        critic.bias.fill_(0.5)
    real, fake = torch.randn(16, 2, generator=torch.Generator().manual_seed(0)), torch.zeros(16, 2)
    gp = fn(critic, real, fake)
    _expect(
        _value(gp, "gradient_penalty"),
        16.0,
        "a linear critic f(x) = 3 x_1 + 4 x_2: gradient norm 5 everywhere",
        "The penalty is the mean over samples of (||grad|| - 1)^2 = (5 - 1)^2 (no lambda inside, not the norm "
        "squared, not summed over the batch).",
    )
    _backward(gp, "gradient_penalty")
    if critic.weight.grad is None or not torch.allclose(critic.weight.grad, torch.tensor([[4.8, 6.4]]), atol=1e-4):
        raise AssertionError(
            "the penalty must be differentiable with respect to the critic's weights (expected gradient "
            f"[4.8, 6.4], got {critic.weight.grad}): call torch.autograd.grad(..., create_graph=True)"
        )
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8]]))
    _expect(
        _value(fn(critic, real, fake), "gradient_penalty"),
        0.0,
        "a critic with gradient norm exactly 1",
        "A 1-Lipschitz slope costs nothing.",
    )
    # f(x) = |x|^2 / 2 has gradient x. Between real (1, 1) and fake (-1, -1), x_hat = u (1, 1) with u uniform in
    # [-1, 1], so the penalty is E[(sqrt(2) |u| - 1)^2] = 5/3 - sqrt(2). At the real or fake points alone it
    # would be (sqrt(2) - 1)^2 = 0.17; with one eps for the whole batch, a different number at every call.
    bowl = lambda x: 0.5 * x.square().sum(dim=1, keepdim=True)  # noqa: E731
    ones = torch.ones(20000, 2)
    for seed in range(3):
        torch.manual_seed(seed)
        _expect(
            _value(fn(bowl, ones, -ones), "gradient_penalty"),
            5 / 3 - math.sqrt(2),
            f"f(x) = |x|^2 / 2 between real (1, 1) and fake (-1, -1), 20,000 samples, try {seed + 1} of 3",
            "Evaluate the gradient at x_hat = eps * real + (1 - eps) * fake with a fresh eps ~ U(0, 1) for each "
            "sample (shape (N, 1)), take each sample's gradient norm, then the mean of (norm - 1)^2.",
            tol=0.012,
        )
    print("✓ gradient_penalty passes 6 checks (linear critic, gradient, a 1-Lipschitz critic, interpolation x 3)")


def check_mode_histogram_kl(fn: Callable[[Tensor, Tensor, float], float]) -> None:
    """Check ``fn(samples (N, 2), modes (K, 2), std) -> float``: KL(p || uniform) in nats of the high-quality mode histogram."""
    from ...data import ring

    mix = ring()
    modes, std = mix.modes, mix.std

    def run(samples: Tensor, case: str) -> float:
        value = fn(samples, modes, std)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise AssertionError(f"{case}: return a float, got {type(value).__name__}") from None

    _expect(
        run(modes.clone(), "one sample on each mode"),
        0.0,
        "one sample exactly on each of the 8 modes",
        "A uniform histogram is 0 away from uniform.",
    )
    _expect(
        run(modes[:1].repeat(10, 1), "all on one mode"),
        math.log(8),
        "10 samples, all on mode 0",
        "All mass on one of K modes gives log K = 2.079 nats. Got 3? That is log base 2: use the natural log.",
    )
    lopsided = torch.cat([modes[[0, 0, 0, 0, 1, 1, 2, 3]], torch.zeros(3, 2)])
    _expect(
        run(lopsided, "counts 4, 2, 1, 1, 0, 0, 0, 0 plus 3 far samples"),
        0.5 * math.log(4) + 0.25 * math.log(2),
        "counts (4, 2, 1, 1, 0, 0, 0, 0) over the 8 modes, plus 3 samples at the centre of the ring",
        "KL(p || u) = sum over modes with p_k > 0 of p_k log(p_k K). An infinite or huge value means the arguments "
        "are swapped (KL(u || p) is infinite when a mode is missing); samples that are not high quality "
        "(here the 3 at the centre) must not count.",
    )
    _expect(
        run(torch.zeros(5, 2), "no high-quality samples"),
        math.log(8),
        "5 samples, none of them high quality",
        "With no high-quality sample the histogram is empty: return log K, as bad as total collapse.",
    )
    x, _ = mix.sample(20000, torch.Generator().manual_seed(0))
    _expect(
        run(x, "20,000 samples of the true ring"),
        _STORED_RING_KL,
        "20,000 samples of the true ring (stored reference)",
        tol=1e-6,
    )
    print(
        "✓ mode_histogram_kl passes 5 checks (uniform, one mode, lopsided with far samples, none high quality, the true ring)"
    )


# --------------------------------------------------------------------------- notebook 05: pix2pix
_SKIP_DEC = torch.linspace(-1, 1, 48).reshape(2, 3, 2, 4)
_SKIP_ENC = torch.linspace(2, -2, 32).reshape(2, 2, 2, 4)
_STORED_SKIP = -160.30201721191406  # (skip(_SKIP_DEC, _SKIP_ENC) * arange(80).reshape(2, 5, 2, 4)).sum()
_RF_LAYERS = [(3, 1), (4, 2), (5, 3), (2, 2), (3, 1), (1, 1), (7, 2)]
_STORED_RF = 116  # receptive_field(_RF_LAYERS)
_P2P_LOGITS = torch.linspace(-3, 2, 18).reshape(2, 1, 3, 3)
_P2P_FAKE = torch.linspace(-1, 1, 96).reshape(2, 3, 4, 4)
_P2P_TARGET = torch.linspace(0.9, -0.7, 96).reshape(2, 3, 4, 4)
_STORED_P2P_G = (92.4331283569336, 1.2160168886184692, 0.9121710658073425)  # pix2pix_generator_loss(..., 100.0)
_PAIR_A = torch.linspace(-1, 1, 32).reshape(2, 1, 4, 4)
_PAIR_B = torch.linspace(1, -0.5, 96).reshape(2, 3, 4, 4)
_STORED_PAIR = 833.3555297851562  # (conditional_pair(_PAIR_A, _PAIR_B) * arange(128).reshape(2, 4, 4, 4)).sum()


def _run(fn: Callable, what: str, *args: object, hint: str = "") -> object:
    """Call the learner's ``fn``, turning an exception into an AssertionError that names the inputs (and a hint);
    a blank's NotImplementedError passes through unchanged."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 -- any error of the learner's code is a failed check
        shapes = ", ".join(str(tuple(a.shape)) if isinstance(a, Tensor) else repr(a) for a in args)
        message = str(err).rstrip(".")
        raise AssertionError(
            f"{what} raised {type(err).__name__} for inputs {shapes}: {message}. {hint}".strip()
        ) from None


def _concat_hint(got: tuple, first: tuple, second: tuple) -> str:
    """Name the usual mistake behind a wrong shape when joining two image batches (N, C, H, W) along the channels."""
    n, _, h, w = first
    if got == first:
        return "that is the shape of the first tensor alone: the other one is missing (or was added to it)"
    if got == second:
        return "that is the shape of the second tensor alone: the other one is missing (or was added to it)"
    if len(got) == 5:
        return "torch.stack adds a new dimension; torch.cat joins along an existing one"
    if got[0] == 2 * n:
        return "you concatenated along dim=0, the batch: that makes more images, not more channels"
    if len(got) == 4 and got[2] == 2 * h:
        return "you concatenated along dim=2, the height: the images sit one above the other"
    if len(got) == 4 and got[3] == 2 * w:
        return "you concatenated along dim=3, the width: side by side is the A|B file format, not a network's input"
    return "concatenate along dim=1, the channels"


def check_unet_skip(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(decoder (N, C_dec, H, W), encoder (N, C_enc, H, W)) -> (N, C_dec + C_enc, H, W)``: the U-Net's skip
    connection, the decoder's features followed by the encoder's features of the same size, along the channels."""
    dec, enc = torch.full((2, 3, 4, 4), 1.0), torch.full((2, 2, 4, 4), 2.0)
    out = _run(
        fn,
        "skip",
        dec,
        enc,
        hint="Join the two along dim=1 (the channels) with torch.cat; only N, H and W "
        "must agree, the channel counts may differ.",
    )
    if not isinstance(out, Tensor):
        raise AssertionError(f"return a torch.Tensor, got {type(out).__name__}")
    if tuple(out.shape) != (2, 5, 4, 4):
        raise AssertionError(
            f"decoder (2, 3, 4, 4) and encoder (2, 2, 4, 4) must give (2, 5, 4, 4): the channels add up, "
            f"got {tuple(out.shape)}. {_concat_hint(tuple(out.shape), (2, 3, 4, 4), (2, 2, 4, 4))}"
        )
    if not (torch.equal(out[:, :3], dec) and torch.equal(out[:, 3:], enc)):
        swapped = torch.equal(out[:, :2], enc) and torch.equal(out[:, 2:], dec)
        raise AssertionError(
            "the channels must be the decoder's (all 1 here) then the encoder's (all 2), unchanged"
            + (
                ": you put the encoder first; keep the order decoder, encoder (the next layer's weights expect it)"
                if swapped
                else ": use torch.cat([decoder, encoder], dim=1)"
            )
        )
    try:
        bad = fn(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 8, 8))
    except Exception:  # noqa: BLE001 -- torch.cat's RuntimeError or the learner's own ValueError both do
        pass
    else:
        raise AssertionError(
            f"a decoder map (4 x 4) and an encoder map (8 x 8) of different sizes must raise an error, "
            f"got a tensor of shape {tuple(getattr(bad, 'shape', ()))}: the skip joins features of the "
            "same pixels, so never resize or crop one of them to make it fit"
        )
    weights = torch.arange(80.0).reshape(2, 5, 2, 4)
    _expect(float((_run(fn, "skip", _SKIP_DEC, _SKIP_ENC) * weights).sum()), _STORED_SKIP, "the stored reference case")
    d, e = _SKIP_DEC.clone().requires_grad_(True), _SKIP_ENC.clone().requires_grad_(True)
    _backward(_run(fn, "skip", d, e).sum(), "skip")
    for name, t in (("decoder", d), ("encoder", e)):
        if t.grad is None or not torch.equal(t.grad, torch.ones_like(t)):
            raise AssertionError(
                f"the gradient must flow back to the {name} features unchanged (that is what makes a "
                "skip useful for training): join the tensors with torch.cat, without detach()"
            )
    print(
        "✓ unet_skip passes 5 checks (shape, order decoder then encoder, mismatched sizes refused, "
        "stored reference, gradients to both)"
    )


# (kernel, stride) of each layer, input first -> receptive field, worked out by hand with r = (r - 1) s + k backwards.
_RF_CASES = [
    ([], 1, "no layers: an output pixel is an input pixel"),
    ([(3, 1)], 3, "one 3x3 convolution"),
    ([(3, 1)] * 3, 7, "three 3x3 convolutions of stride 1 (VGG's argument: they see 7 x 7)"),
    ([(2, 2), (2, 2)], 4, "two 2x2 stride-2 poolings"),
    ([(7, 2), (3, 2)], 11, "a 7x7 stride-2 then a 3x3 stride-2 convolution"),
    ([(3, 2), (7, 2)], 15, "the same two layers in the other order"),
    ([(4, 2), (4, 1), (4, 1)], 16, "the PatchGAN with n_layers=1 (the paper's 16 x 16 PatchGAN)"),
    ([(4, 2), (4, 2), (4, 1), (4, 1)], 34, "the PatchGAN with n_layers=2 (34 x 34)"),
    ([(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)], 70, "the default PatchGAN (70 x 70)"),
]


def _rf_forward_backwards(layers: list) -> int:
    """The backward formula applied from the input side: a usual slip."""
    r = 1
    for k, s in layers:
        r = (r - 1) * s + k
    return r


def _rf_from(start: int, layers: list) -> int:
    """The right walk from the output back to the input, started at r = ``start``."""
    r = start
    for k, s in reversed(layers):
        r = (r - 1) * s + k
    return r


def check_patchgan_receptive_field(fn: Callable[[list], int]) -> None:
    """Check ``fn(layers) -> int``: the receptive field in pixels of convolutions given as (kernel, stride) pairs,
    in the order they are applied (input first)."""
    for layers, expected, case in _RF_CASES:
        got = _run(fn, "receptive_field", list(layers))
        if not isinstance(got, int) or isinstance(got, bool):
            raise AssertionError(f"return an int (a number of pixels), got {type(got).__name__} {got!r}")
        if got != expected:
            hint = (
                "you walked from the input to the output: start at ONE OUTPUT pixel and go back to the input, "
                "last layer first (reversed(layers))"
                if got == _rf_forward_backwards(layers) and layers
                else "the strides are missing: a pixel seen after a stride-2 layer stands for 2 input pixels, so each "
                "layer's (k - 1) is multiplied by the strides of the layers before it"
                if got == 1 + sum(k - 1 for k, _ in layers)
                else "start from r = 1 (one output pixel), not 0"
                if got == _rf_from(0, layers)
                else "each step is r = (r - 1) * stride + kernel: (r - 1) gaps between r pixels, stretched by the stride, "
                "plus the kernel"
            )
            raise AssertionError(
                f"{case}: layers {layers} should see {expected} x {expected} pixels, got {got}. {hint}"
            )
    got = _run(fn, "receptive_field", list(_RF_LAYERS))
    if got != _STORED_RF:
        raise AssertionError(f"the stored reference case {_RF_LAYERS}: expected {_STORED_RF}, got {got}")
    print(
        f"✓ patchgan_receptive_field passes {len(_RF_CASES) + 1} checks "
        f"({len(_RF_CASES)} worked by hand, the 70 x 70 PatchGAN among them, and a stored reference)"
    )


def check_pix2pix_generator_loss(fn: Callable[[Tensor, Tensor, Tensor, float], tuple[Tensor, Tensor, Tensor]]) -> None:
    """Check ``fn(d_fake_logits (N, 1, H', W'), fake (N, C, H, W), target (N, C, H, W), lambda_l1) ->
    (total, gan_term, l1_term)``: gan_term = -mean log D(a, G(a)) over all patches (non-saturating, from logits),
    l1_term = mean |fake - target|, total = gan_term + lambda_l1 * l1_term."""

    def run(logits: Tensor, fake: Tensor, target: Tensor, lam: float, case: str) -> tuple[float, float, float]:
        out = _run(fn, "pix2pix_generator_loss", logits, fake, target, lam)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise AssertionError(f"{case}: return a tuple (total, gan_term, l1_term), got {type(out).__name__}")
        return tuple(_value(t, name) for t, name in zip(out, ("total", "gan_term", "l1_term")))  # type: ignore[return-value]

    zeros = torch.zeros(2, 1, 3, 3)
    target = torch.zeros(2, 3, 4, 4)
    total, gan, l1 = run(zeros, target.clone(), target, 100.0, "D unsure, G perfect")
    _expect(
        gan,
        math.log(2),
        "gan_term where D(a, G(a)) = 1/2 on every patch (logits 0)",
        "-log(1/2) = log 2: the mean over the patches of softplus(-logits). Did you sum over the patches?",
    )
    _expect(l1, 0.0, "l1_term when fake == target")
    _expect(
        total,
        math.log(2),
        "total when fake == target and the logits are 0",
        "lambda multiplies the L1 term, not the GAN term" if abs(total - 100 * math.log(2)) < 1e-3 else "",
    )
    total, gan, l1 = run(zeros, torch.full((2, 3, 4, 4), 0.5), target, 100.0, "fake = target + 0.5 everywhere")
    _expect(
        l1,
        0.5,
        "l1_term when every pixel is off by 0.5",
        "0.25 is the squared error (L2): pix2pix uses the absolute error, mean |fake - target|"
        if abs(l1 - 0.25) < 1e-4
        else "return l1_term without lambda; lambda weighs it only in the total"
        if abs(l1 - 50) < 1e-3
        else "average over every pixel and channel, not a sum"
        if l1 > 1
        else "",
    )
    _expect(
        total,
        math.log(2) + 50,
        "total = gan_term + 100 * l1_term with l1_term 0.5",
        "lambda multiplies the L1 term, not the GAN term"
        if abs(total - (100 * math.log(2) + 0.5)) < 1e-3
        else "did you forget lambda?"
        if abs(total - (math.log(2) + 0.5)) < 1e-3
        else "",
    )
    total, _, _ = run(zeros, torch.full((2, 3, 4, 4), 0.5), target, 10.0, "lambda_l1 = 10")
    _expect(total, math.log(2) + 5, "lambda_l1 = 10, l1_term 0.5", "use the lambda_l1 argument, not a fixed 100")
    _, gan, _ = run(torch.full((2, 1, 3, 3), -8.0), target.clone(), target, 100.0, "D rejects the fakes")
    _expect(
        gan,
        math.log1p(math.exp(8)),
        "gan_term where D confidently rejects every fake patch (logits -8)",
        "a value near 0 means the saturating loss log(1 - D) or the label 'fake': G minimises -log D(a, G(a)) "
        "= softplus(-logits)",
    )
    got = run(_P2P_LOGITS, _P2P_FAKE, _P2P_TARGET, 100.0, "the stored reference case")
    for i, name in ((2, "l1_term"), (1, "gan_term"), (0, "total")):
        value, expected = got[i], _STORED_P2P_G[i]
        _expect(
            value,
            expected,
            f"the stored reference case ({name})",
            "take the absolute value before averaging: positive and negative errors must not cancel"
            if name == "l1_term"
            else "",
        )
    logits = _P2P_LOGITS.clone().requires_grad_(True)
    fake = _P2P_FAKE.clone().requires_grad_(True)
    out = _run(fn, "pix2pix_generator_loss", logits, fake, _P2P_TARGET, 100.0)
    _backward(out[0], "pix2pix_generator_loss")
    if fake.grad is None or not torch.allclose(
        fake.grad, 100 * torch.sign(_P2P_FAKE - _P2P_TARGET) / fake.numel(), atol=1e-6
    ):
        raise AssertionError(
            "the gradient of the total with respect to fake should be lambda * sign(fake - target) / "
            "(number of values): build the L1 term from fake with torch operations"
        )
    if logits.grad is None or not torch.allclose(logits.grad, -torch.sigmoid(-_P2P_LOGITS) / logits.numel(), atol=1e-6):
        raise AssertionError(
            "the gradient of the total with respect to D's logits should be -(1 - D) / (number of "
            "patches): the GAN term must come from the logits through torch operations"
        )
    print(
        "✓ pix2pix_generator_loss passes 9 checks (known cases, lambda, D rejecting fakes, stored reference, gradients)"
    )


def check_conditional_pair(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(a (N, C_a, H, W), b (N, C_b, H, W)) -> (N, C_a + C_b, H, W)``: what pix2pix's D sees, the input a
    paired with an output b (real or generated), stacked along the channels, input first."""
    a, b = torch.full((2, 1, 4, 4), -1.0), torch.full((2, 3, 4, 4), 0.5)
    out = _run(
        fn,
        "conditional_pair",
        a,
        b,
        hint="Join the two along dim=1 (the channels) with torch.cat; only N, H "
        "and W must agree, the channel counts may differ.",
    )
    if not isinstance(out, Tensor):
        raise AssertionError(f"return a torch.Tensor, got {type(out).__name__}")
    if tuple(out.shape) != (2, 4, 4, 4):
        hint = (
            "D sees the output alone (or the input added to it): that is an unconditional D, which cannot tell "
            "whether the output belongs to its input. Give it both, as channels"
            if tuple(out.shape) == (2, 3, 4, 4)
            else _concat_hint(tuple(out.shape), (2, 1, 4, 4), (2, 3, 4, 4))
        )
        raise AssertionError(
            f"a (2, 1, 4, 4) paired with b (2, 3, 4, 4) must give (2, 4, 4, 4), got {tuple(out.shape)}. {hint}"
        )
    if not (torch.equal(out[:, :1], a) and torch.equal(out[:, 1:], b)):
        raise AssertionError(
            "the channels must be a's (the input, all -1 here) then b's (the output, all 0.5), unchanged"
            + (": you put the output first" if torch.equal(out[:, :3], b) else "")
        )
    weights = torch.arange(128.0).reshape(2, 4, 4, 4)
    _expect(
        float((_run(fn, "conditional_pair", _PAIR_A, _PAIR_B) * weights).sum()),
        _STORED_PAIR,
        "the stored reference case",
    )
    fake = _PAIR_B.clone().requires_grad_(True)
    out = _run(fn, "conditional_pair", _PAIR_A, fake)
    if out.requires_grad:
        _backward(out.sum(), "conditional_pair")
    if fake.grad is None or not torch.equal(fake.grad, torch.ones_like(fake)):
        raise AssertionError(
            "the gradient must flow back to b: when b is G's output, this is the path by which the "
            "GAN term teaches G. Do not detach b here (the D step detaches the fake itself)"
        )
    print("✓ conditional_pair passes 4 checks (shape, input then output, stored reference, gradient to the output)")


# --------------------------------------------------------------------------- notebook 07: CycleGAN
# Fixed inputs for the stored reference values of the CycleGAN exercises (computed once with utils.cyclegan).
_CYC_A = torch.linspace(-1, 1, 32).reshape(2, 1, 4, 4)  # domain A: one channel
_CYC_REC_A = torch.linspace(0.8, -0.9, 32).reshape(2, 1, 4, 4)
_CYC_B = torch.linspace(-0.5, 1, 96).reshape(2, 3, 4, 4)  # domain B: three channels
_CYC_REC_B = torch.linspace(1, -1, 96).reshape(2, 3, 4, 4)
_STORED_CYCLE = 1.8567028045654297  # cycle_loss(_CYC_A, _CYC_REC_A, _CYC_B, _CYC_REC_B)
_IDT_SAME_A = torch.linspace(-0.9, 0.7, 32).reshape(2, 1, 4, 4)
_IDT_B = torch.linspace(1, -1, 32).reshape(2, 1, 4, 4)
_IDT_SAME_B = torch.linspace(0.3, -0.6, 32).reshape(2, 1, 4, 4)
_STORED_IDENTITY = 0.43104836344718933  # identity_loss(_CYC_A, _IDT_SAME_A, _IDT_B, _IDT_SAME_B)
_LS_REAL = torch.linspace(-1, 2.5, 18).reshape(2, 1, 3, 3)
_LS_FAKE = torch.linspace(1.5, -0.8, 18).reshape(2, 1, 3, 3)
_STORED_LSGAN_D = 0.9093137383460999  # lsgan_discriminator_loss(_LS_REAL, _LS_FAKE)
_STORED_POOL_SWAPS = 986  # utils.cyclegan.ImagePool(5, seed=0): swaps among the 2,004 images after filling


def _check_two_way_l1(
    fn: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor],
    name: str,
    lam: str,
    stored: tuple[Tensor, Tensor, Tensor, Tensor, float],
) -> None:
    """The shared part of the cycle and identity checks: ``fn(real_a, x_a, real_b, x_b)`` must be
    mean |x_a - real_a| + mean |x_b - real_b|, unweighted, with gradients to x_a and x_b."""
    a, b = torch.zeros(2, 1, 4, 4), torch.zeros(2, 3, 4, 4)

    def value(xa: Tensor, xb: Tensor, case: str, hint: str = "") -> float:
        return _value(_run(fn, name, a, xa, b, xb, hint=hint), name)

    _expect(value(a.clone(), b.clone(), "both directions exact"), 0.0, f"{name} when both images come back exactly")
    off_a = value(a + 0.5, b.clone(), "A off by 0.5")
    off_b = value(a.clone(), b - 0.25, "B off by 0.25")
    squared = abs(off_a - 0.25) < 1e-4 and abs(off_b - 0.0625) < 1e-4
    _expect(
        off_a,
        0.5,
        f"{name} when every pixel of A is off by 0.5 and B is exact",
        "you measured only the B direction: add the A term, mean |x_a - real_a|"
        if off_a == 0
        else "0.25 is the squared error (L2): CycleGAN uses the absolute error (L1)"
        if squared
        else "add the two directions' means; do not average them (or the concatenated pixels)"
        if off_a < 0.5
        else f"return the loss unweighted: {lam} weighs it in the training step, not here"
        if any(abs(off_a - w * 0.5) < 1e-4 for w in (0.5, 5.0, 10.0))
        else "average over every pixel and channel, not a sum"
        if off_a > 1
        else "",
    )
    _expect(
        off_b,
        0.25,
        f"{name} when A is exact and every pixel of B is off by -0.25",
        "you measured only the A direction: add the B term, mean |x_b - real_b|"
        if off_b == 0
        else "take the absolute value: an error of -0.25 costs as much as +0.25"
        if abs(off_b + 0.25) < 1e-4
        else "",
    )
    _expect(
        value(a + 0.5, b - 0.25, "both off"),
        0.75,
        f"{name} with A off by 0.5 and B off by -0.25",
        "the two directions add up: 0.5 + 0.25",
    )
    ra, xa, rb, xb, expected = stored
    _expect(
        _value(_run(fn, name, ra, xa, rb, xb), name),
        expected,
        f"{name}, the stored reference case",
        "the signs of the errors vary here: take |.| before averaging, and compare each image with its own "
        "domain's original (real_a with the A images, real_b with the B images)",
    )
    xa, xb = xa.clone().requires_grad_(True), xb.clone().requires_grad_(True)
    _backward(_run(fn, name, ra, xa, rb, xb), name)
    for what, x, r in (("A", xa, ra), ("B", xb, rb)):
        if x.grad is None or not torch.allclose(x.grad, torch.sign(x.detach() - r) / x.numel(), atol=1e-6):
            raise AssertionError(
                f"{name}: the gradient with respect to the {what} images should be sign(x - real) / "
                "(number of values): build the loss from them with torch operations, without detach()"
            )


def check_cycle_loss(fn: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(real_a, rec_a (N, C_a, H, W), real_b, rec_b (N, C_b, H, W)) -> scalar``: cycle consistency in both
    directions, mean |rec_a - real_a| + mean |rec_b - real_b| with rec_a = F(G(a)) and rec_b = G(F(b))."""
    _check_two_way_l1(fn, "cycle_loss", "lambda = 10", (_CYC_A, _CYC_REC_A, _CYC_B, _CYC_REC_B, _STORED_CYCLE))
    print("✓ cycle_loss passes 6 checks (each direction alone, both, stored reference, gradients to both)")


def check_identity_loss(fn: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(real_a, same_a, real_b, same_b (N, C, H, W)) -> scalar``: the identity loss
    mean |same_a - real_a| + mean |same_b - real_b| with same_a = F(a) and same_b = G(b)."""
    _check_two_way_l1(
        fn, "identity_loss", "0.5 * lambda = 5", (_CYC_A, _IDT_SAME_A, _IDT_B, _IDT_SAME_B, _STORED_IDENTITY)
    )
    print("✓ identity_loss passes 6 checks (each direction alone, both, stored reference, gradients to both)")


def _tagged(tags: list[int], grad: bool = True) -> Tensor:
    """Images (N, 1, 2, 2), image i filled with the number tags[i]: a batch whose images can be told apart; with
    ``grad``, the batch is the result of a computation (as G's output is), so it requires grad."""
    images = torch.tensor(tags, dtype=torch.float32).reshape(-1, 1, 1, 1).expand(-1, 1, 2, 2)
    return images.clone().requires_grad_(True) * 1 if grad else images.clone()


def _tags_of(out: object, batch: Tensor, case: str) -> list[int]:
    """The tag of each image a pool returned, after checking type, shape and detachment."""
    if not isinstance(out, Tensor):
        raise AssertionError(f"{case}: query must return a torch.Tensor (a batch), got {type(out).__name__}")
    if tuple(out.shape) != tuple(batch.shape):
        raise AssertionError(
            f"{case}: query must return a batch of the input's shape {tuple(batch.shape)}, got "
            f"{tuple(out.shape)}: one image out for each image in (torch.stack the list)"
        )
    if out.requires_grad:
        raise AssertionError(
            f"{case}: the returned images still require grad: return detached images "
            "(images.detach()), and store detached copies. The pool feeds D's step only; a stored "
            "image attached to an old graph would keep that graph alive, or backpropagate into G"
        )
    flat = out.detach().reshape(len(out), -1)
    tags = flat[:, 0].round()
    if not torch.equal(flat, tags[:, None].expand_as(flat)):
        raise AssertionError(f"{case}: the returned images are not the images given to the pool (changed values?)")
    return [int(t) for t in tags]


def check_image_pool(cls: Callable[..., object]) -> None:
    """Check ``cls(size=50, seed=0)`` with ``query(images (N, C, H, W)) -> (N, C, H, W)``: the discriminators' history
    of generated images. Deterministic: Python's, NumPy's and PyTorch's global generators are seeded for the check
    (and restored after it); the frequencies are compared with a tolerance of several standard deviations."""
    import random

    import numpy as np

    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[]):
            random.seed(0)
            np.random.seed(0)
            torch.manual_seed(0)
            swaps, n = _pool_run(cls)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    print(
        f"✓ ImagePool passes 8 checks (size 0, filling first, detached, one swap per image at most, the new image "
        f"stored, nothing returned twice, {swaps}/{n} swaps ~ 1/2 as the reference's {_STORED_POOL_SWAPS}, "
        "image by image)"
    )


def _pool_run(cls: Callable[..., object]) -> tuple[int, int]:
    """The body of :func:`check_image_pool`; returns (swaps, images queried after filling)."""
    # 1. size 0: no pool, every image goes through, detached, and nothing is kept.
    pool = cls(0)
    for tags in ([1, 2, 3], [4, 5]):
        batch = _tagged(tags)
        got = _tags_of(_run(pool.query, "ImagePool(0).query", batch), batch, "size 0 (no pool)")
        if got != tags:
            raise AssertionError(
                f"size 0 turns the pool off: query must return its images as they are ({tags}), got {got}"
            )
    # 2. the default size is 50: the first 50 images fill it and go through unchanged.
    pool = cls()
    batch = _tagged(list(range(1, 51)))
    if _tags_of(_run(pool.query, "ImagePool().query", batch), batch, "ImagePool(), first 50 images") != list(
        range(1, 51)
    ):
        raise AssertionError(
            "ImagePool() holds 50 images: the first 50 must be stored and returned as they are "
            "(fill first: toss the coin only once the pool is full)"
        )
    # 3. size 5: fill with 3 + 2 images (returned as they are), then 2 + 1,000 x 2 images, one at a time.
    pool = cls(5, seed=0)
    fill_hint = (
        "until the pool holds `size` images, store each new image and return it as it is; the coin is "
        "tossed only once the pool is full (fill first)"
    )
    batch = _tagged([1, 2, 3])
    got = _tags_of(_run(pool.query, "ImagePool(5).query", batch), batch, "the first 3 images")
    if got != [1, 2, 3]:
        raise AssertionError(
            f"a pool of 5 given its first 3 images must return them as they are, got {got}: {fill_hint}"
        )
    stored = {1, 2, 3}
    history: dict[int, str] = {1: "stored", 2: "stored", 3: "stored"}
    swaps = mixed = newest = oldest = 0
    next_tag = 4
    for step in range(1002):
        size = 4 if step == 0 else 2
        tags = list(range(next_tag, next_tag + size))
        next_tag += size
        batch = _tagged(tags)
        got = _tags_of(_run(pool.query, "ImagePool(5).query", batch), batch, f"query {step + 2} (images {tags})")
        batch_swaps = 0
        for new, out in zip(tags, got):
            if len(stored) < 5:
                if out != new:
                    raise AssertionError(
                        f"the pool held {len(stored)} of 5 images and returned image {out} for the new "
                        f"image {new}: {fill_hint}"
                    )
                stored.add(new)
                history[new] = "stored"
            elif out == new:
                history[new] = "returned"
            elif out in stored:
                swaps += 1
                batch_swaps += 1
                newest += out == max(stored)
                oldest += out == min(stored)
                stored.remove(out)
                stored.add(new)
                history[out], history[new] = "handed out", "stored"
            else:
                why = {
                    "handed out": f"image {out} came back from the pool twice: when you return a stored image, the "
                    "new image must take its place (self.images[i] = the new image), so each stored "
                    "image comes back at most once",
                    "returned": f"image {out} went through as it was AND came back from the pool later: when the "
                    "new image goes through, do not store it; store it only in place of the one you "
                    "return (or while filling)",
                }.get(history.get(out, ""), f"image {out} was never stored in the pool")
                raise AssertionError(
                    f"for the new image {new} the pool returned image {out}, which should not be in the pool: {why}"
                )
        if len(tags) == 2 and batch_swaps == 1:
            mixed += 1
    n = next_tag - 6  # images queried once the pool is full
    if swaps == 0:
        raise AssertionError(
            f"the full pool never returned a stored image in {n} queries: with probability 1/2 return "
            "a random stored image and put the new one in its place (only returning new images makes "
            "the history pointless)"
        )
    if swaps == n:
        raise AssertionError(
            f"the full pool swapped every one of {n} images: with probability 1/2 the new image goes "
            "through as it is (D must also see the latest generator's images)"
        )
    if abs(swaps - _STORED_POOL_SWAPS) > 0.06 * n:
        raise AssertionError(
            f"the full pool swapped {swaps} of {n} images; with probability 1/2 per image expect about "
            f"{n // 2} (the reference swapped {_STORED_POOL_SWAPS}): toss one fair coin per image, "
            "e.g. self.rng.random() < 0.5"
        )
    if not any(t > 5 and h == "handed out" for t, h in history.items()):
        raise AssertionError(
            "no image stored after the pool was full ever came back: put the new image in the slot "
            "of the one you return"
        )
    if mixed < 0.3 * 1001:
        raise AssertionError(
            f"only {mixed} of 1,001 batches of 2 had one image swapped and one not: toss the coin "
            "image by image, not once per batch"
        )
    if max(newest, oldest) > 0.5 * swaps:
        raise AssertionError(
            f"the returned stored image was the {'newest' if newest > oldest else 'oldest'} one in "
            f"{max(newest, oldest)} of {swaps} swaps: pick the stored image at random "
            "(self.rng.randrange(self.size))"
        )
    return swaps, n


def check_lsgan_discriminator_loss(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(real_scores, fake_scores (N, 1, H', W')) -> scalar``: the least-squares discriminator loss
    ½[mean (D(real) - 1)² + mean D(fake)²] over every patch."""

    def value(real: Tensor, fake: Tensor) -> float:
        return _value(_run(fn, "lsgan_discriminator_loss", real, fake), "lsgan_discriminator_loss")

    ones, zeros = torch.ones(2, 1, 3, 3), torch.zeros(2, 1, 3, 3)
    got = value(ones, zeros)
    _expect(
        got,
        0.0,
        "a perfect D (real scores 1, fake scores 0)",
        "a loss near 1 here means the targets are swapped: real -> 1, fake -> 0"
        if abs(got - 1) < 1e-4
        else "least squares on the scores as they are (no sigmoid, no log, no cross-entropy): (D(real) - 1)² and "
        "D(fake)² are both 0 here"
        if got > 0
        else "",
    )
    got = value(zeros, zeros)
    _expect(
        got,
        0.5,
        "real and fake scores all 0",
        "the ½ is missing: ½[mean (D(real) - 1)² + mean D(fake)²]"
        if abs(got - 1) < 1e-4
        else "2 log 2 is the cross-entropy on logits (BCE-with-logits): LSGAN squares the distance to the target"
        if abs(got - 2 * math.log(2)) < 1e-3
        else "average over every patch, not a sum"
        if got > 2
        else "",
    )
    got = value(zeros, ones)
    _expect(
        got,
        1.0,
        "a D that is wrong everywhere (real scores 0, fake scores 1)",
        "a loss of 0 here means the targets are swapped: real -> 1, fake -> 0" if abs(got) < 1e-4 else "",
    )
    far_real, far_fake = torch.full((2, 1, 3, 3), 3.0, requires_grad=True), torch.full((2, 1, 3, 3), -2.0)
    loss = _run(fn, "lsgan_discriminator_loss", far_real, far_fake)
    _expect(
        _value(loss, "lsgan_discriminator_loss"),
        4.0,
        "real scores 3 and fake scores -2 (right side, far away)",
        "½[(3 - 1)² + (-2)²] = 4: the least-squares loss keeps penalising scores past their target",
    )
    _backward(loss, "lsgan_discriminator_loss")
    if far_real.grad is None or not torch.allclose(far_real.grad, torch.full_like(far_real, 2.0 / 18), atol=1e-6):
        raise AssertionError(
            "for real scores of 3 the gradient per score should be (3 - 1) / 18 = 0.111 (18 scores): "
            "it does not vanish far from the boundary, which is LSGAN's point. Square the "
            "difference, with torch operations"
        )
    _expect(value(_LS_REAL, _LS_FAKE), _STORED_LSGAN_D, "the stored reference case")
    real, fake = _LS_REAL.clone().requires_grad_(True), _LS_FAKE.clone().requires_grad_(True)
    _backward(_run(fn, "lsgan_discriminator_loss", real, fake), "lsgan_discriminator_loss")
    if (
        real.grad is None
        or fake.grad is None
        or not torch.allclose(real.grad, (_LS_REAL - 1) / 18, atol=1e-6)
        or not torch.allclose(fake.grad, _LS_FAKE / 18, atol=1e-6)
    ):
        raise AssertionError(
            "the gradients should be (D(real) - 1) / N and D(fake) / N (N scores in each map): "
            "build the loss from both score maps with torch operations"
        )
    print(
        "✓ lsgan_discriminator_loss passes 7 checks (known cases, scores far past the target, stored reference, "
        "gradients)"
    )


# --------------------------------------------------------------------------- notebook 08: perceptual loss
# The stored reference values of the perceptual-loss exercises live in a file (inputs drawn once from a seed and
# stored with them, so nothing depends on a machine's random numbers): regenerate it with
# ``python scripts/make_check_references.py`` (it calls write_perceptual_reference, which uses utils.perceptual).
from pathlib import Path  # noqa: E402

PERCEPTUAL_REFERENCE = Path(__file__).resolve().parent / "reference" / "perceptual.json"
PERCEPTUAL_SEED = 2016
_PERC_LAYER_WEIGHTS = {"relu1_2": 0.5, "relu2_2": 2.0, "relu3_3": 0.25}


def perceptual_reference_values(seed: int = PERCEPTUAL_SEED) -> dict:
    """The fixed inputs (drawn from ``seed``) and the reference outputs (from utils.perceptual) of the 08 checks.

    Every shape is non-square on purpose (C != H W), so F^T F cannot pass for F F^T; ``gram_square`` is square
    (C = H W) so that the transpose is caught by value too.
    """
    from ... import perceptual as P

    g = torch.Generator().manual_seed(seed)
    gram_in = torch.randn(2, 3, 4, 5, generator=g)
    gram_square = torch.randn(1, 4, 2, 2, generator=g)
    feats = {
        "relu1_2": torch.rand(2, 3, 6, 4, generator=g),
        "relu2_2": torch.rand(2, 5, 3, 2, generator=g),
        "relu3_3": torch.rand(2, 4, 2, 3, generator=g),
    }
    style_feats = {k: torch.rand(1, *v.shape[1:], generator=g) for k, v in feats.items()}  # the style image's
    targets = {k: P.gram_matrix(v) for k, v in style_feats.items()}
    content_feat, content_target = torch.rand(2, 4, 3, 5, generator=g), torch.rand(1, 4, 3, 5, generator=g)
    tv_x = torch.rand(2, 3, 5, 7, generator=g) * 2 - 1
    return {
        "seed": seed,
        "gram": {"features": gram_in, "expected": P.gram_matrix(gram_in)},
        "gram_square": {"features": gram_square, "expected": P.gram_matrix(gram_square)},
        "style": {
            "feats": feats,
            "targets": targets,
            "layer_weights": dict(_PERC_LAYER_WEIGHTS),
            "expected": P.style_loss(feats, targets, _PERC_LAYER_WEIGHTS),
        },
        "content": {
            "feat": content_feat,
            "target": content_target,
            "expected": P.content_loss(content_feat, content_target),
        },
        "tv": {"x": tv_x, "expected": P.total_variation(tv_x)},
    }


def _to_json(value: object) -> object:
    if isinstance(value, Tensor):
        return {"shape": list(value.shape), "values": value.flatten().tolist()}
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    return value


def _from_json(value: object) -> object:
    if isinstance(value, dict) and set(value) == {"shape", "values"}:
        return torch.tensor(value["values"], dtype=torch.float32).reshape(value["shape"])
    if isinstance(value, dict):
        return {k: _from_json(v) for k, v in value.items()}
    return value


def write_perceptual_reference(path: str | Path = PERCEPTUAL_REFERENCE) -> None:
    """(Re)write the stored reference values of the 08 checks (see :func:`perceptual_reference_values`)."""
    import json

    data = {
        "about": "Stored reference values of utils.course.checks.check_gram_matrix / check_style_loss / "
        "check_content_loss / check_total_variation: inputs drawn once from the seed, outputs from "
        "utils.perceptual. Regenerate with: python scripts/make_check_references.py",
        **_to_json(perceptual_reference_values()),
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=1) + "\n")


def load_perceptual_reference(path: str | Path = PERCEPTUAL_REFERENCE) -> dict:
    """The stored inputs and reference outputs of the 08 checks, as tensors."""
    import json

    if not Path(path).is_file():
        raise FileNotFoundError(
            f"the stored reference values {path} are missing: reinstall the course or run "
            "python scripts/make_check_references.py"
        )
    return _from_json(json.loads(Path(path).read_text()))


def _backward_from(loss: object, what: str, source: str) -> None:
    """Backpropagate the learner's result; a result autograd cannot follow is a failed check that says why."""
    if not isinstance(loss, Tensor) or loss.grad_fn is None:
        raise AssertionError(
            f"{what}: autograd cannot follow your result back to the {source} (no grad_fn): build it "
            f"from the {source} with torch operations only (no .detach(), .item(), float() or NumPy)"
        )
    loss.backward()


def _tensor_out(result: object, what: str) -> Tensor:
    if not isinstance(result, Tensor):
        raise AssertionError(f"{what} must return a torch.Tensor, got {type(result).__name__}")
    return result


def _match(got: Tensor, candidates: dict[str, Tensor]) -> str:
    """The hint of the first candidate (a known mistake) that ``got`` equals, or ""."""
    for hint, value in candidates.items():
        if value.shape == got.shape and torch.allclose(got, value, rtol=1e-4, atol=1e-6):
            return hint
    return ""


def _gram_mistakes(x: Tensor) -> dict[str, Tensor]:
    """What the usual wrong Gram matrices of features (B, C, H, W) give, each with the hint that names the mistake."""
    b, c, h, w = x.shape
    flat = x.reshape(b, c, h * w)
    raw = flat @ flat.transpose(1, 2)
    mixed = x.reshape(b, h * w, c)
    return {
        "that is G = F Fᵀ / (H W), the 'hw' normalisation: divide by C H W (the channels too)": raw / (h * w),
        "that is F Fᵀ with no normalisation: divide by C H W": raw,
        "that is F Fᵀ / C: divide by C H W (the positions H W too)": raw / c,
        "that is F Fᵀ / (C H W)²: divide by C H W once": raw / (c * h * w) ** 2,
        "that is Fᵀ F / (C H W), the transpose: with F of shape (C, H W), F Fᵀ is (C, C) and compares channels; "
        "Fᵀ F is (H W, H W) and compares positions": flat.transpose(1, 2) @ flat / (c * h * w),
        "that is F Fᵀ with F = x.reshape(B, H*W, C) transposed: reshape gives (C, H*W) only as "
        "x.reshape(B, C, H*W) -- keep the channels first": mixed.transpose(1, 2) @ mixed / (c * h * w),
    }


def check_gram_matrix(fn: Callable[[Tensor], Tensor]) -> None:
    """Check ``fn(features (B, C, H, W)) -> (B, C, C)``: G = F F^T / (C H W) with F the features flattened to (C, H W)."""
    ref = load_perceptual_reference()
    x = ref["gram"]["features"]
    b, c, h, w = x.shape
    out = _tensor_out(
        _run(fn, "gram_matrix", x.clone(), hint="Flatten to (B, C, H*W) and multiply by the transpose."), "gram_matrix"
    )
    shape = tuple(out.shape)
    if shape != (b, c, c):
        hint = (
            "that is (B, H W, H W): you computed Fᵀ F (positions against positions); the Gram compares "
            "channels: F Fᵀ with F of shape (B, C, H*W), i.e. flat @ flat.transpose(1, 2)"
            if shape == (b, h * w, h * w)
            else "the batch dimension is missing: keep one Gram matrix per image (use torch.bmm or @ on (B, C, H*W))"
            if shape == (c, c)
            else "the images of the batch were mixed into one matrix: flatten each image on its own, (B, C, H*W)"
            if shape in ((b * c, b * c), (1, b * c, b * c))
            else "the result must be (B, C, C)"
        )
        raise AssertionError(
            f"features of shape {(b, c, h, w)} must give Gram matrices of shape {(b, c, c)}, got {shape}: {hint}"
        )
    ones = _tensor_out(_run(fn, "gram_matrix", torch.ones(1, 2, 3, 4)), "gram_matrix").detach()
    if ones.shape != (1, 2, 2) or not torch.allclose(ones, torch.full((1, 2, 2), 0.5), atol=1e-6):
        hint = _match(ones, _gram_mistakes(torch.ones(1, 2, 3, 4))) or "divide F Fᵀ by C H W"
        raise AssertionError(
            f"features all ones (1, 2, 3, 4): every entry is (H W) / (C H W) = 1/C = 0.5, got "
            f"{ones.flatten()[:4].tolist()}: {hint}"
        )
    expected = ref["gram"]["expected"]
    if not torch.allclose(out.detach(), expected, rtol=1e-4, atol=1e-6):
        hint = _match(out.detach(), _gram_mistakes(x)) or "compute G = F Fᵀ / (C H W) with F = x.reshape(B, C, H*W)"
        raise AssertionError(
            f"the stored reference case (features {(b, c, h, w)}, signed values) differs by up to "
            f"{float((out.detach() - expected).abs().max()):.3g}: {hint}"
        )
    xs = ref["gram_square"]["features"]  # C = H W: a transposed Gram has the right shape here, only the values differ
    out = _tensor_out(_run(fn, "gram_matrix", xs.clone()), "gram_matrix").detach()
    if out.shape != ref["gram_square"]["expected"].shape or not torch.allclose(
        out, ref["gram_square"]["expected"], rtol=1e-4, atol=1e-6
    ):
        hint = _match(out, _gram_mistakes(xs)) or "compute G = F Fᵀ / (C H W) with F = x.reshape(B, C, H*W)"
        raise AssertionError(
            f"the stored square case (C = H W = 4, so every mistake has the right shape) is wrong: {hint}"
        )
    leaf = x.clone().requires_grad_(True)
    _backward_from(
        (_run(fn, "gram_matrix", leaf) * torch.linspace(-1, 1, c * c).view(1, c, c)).sum(), "gram_matrix", "features"
    )
    if leaf.grad is None or not leaf.grad.abs().sum() > 0:
        raise AssertionError(
            "no gradient reached the features: build the Gram from them with torch operations, without detach()"
        )
    print(
        "✓ gram_matrix passes 5 checks (shape (B, C, C) on non-square features, all-ones features, stored "
        "reference, a square case, gradient)"
    )


def _style_value(fn: Callable, feats: dict, targets: dict, weights: dict) -> float:
    return _value(_run(fn, "style_loss", feats, targets, weights), "style_loss")


def check_style_loss(fn: Callable[[dict, dict, dict], Tensor]) -> None:
    """Check ``fn(feats {layer: (B, C, H, W)}, target_grams {layer: (1, C, C)}, layer_weights {layer: w}) -> scalar``:
    sum over the layers of w_l ||G(F_l) - A_l||_F^2, averaged over the batch. It calls your ``gram_matrix``."""
    from ... import perceptual as P

    ref = load_perceptual_reference()
    feats, targets, weights = ref["style"]["feats"], ref["style"]["targets"], ref["style"]["layer_weights"]
    one = {"relu2_2": feats["relu2_2"][:1]}
    same = {"relu2_2": P.gram_matrix(feats["relu2_2"][:1])}
    got = _style_value(fn, one, same, {"relu2_2": 1.0})
    _expect(
        got,
        0.0,
        "features whose Gram equals the target",
        "use your gram_matrix (normalised by C H W) on the features; the targets are already Gram matrices"
        if _matches_other_norm(got, one["relu2_2"], same["relu2_2"])
        else "compare each layer's Gram matrix with its target: G(feats) - target is 0 here (did you compare the "
        "features themselves?)",
    )
    # One layer, one image: the squared Frobenius distance, a sum over the C x C entries.
    f1, t1 = {"relu2_2": feats["relu2_2"][:1]}, {"relu2_2": targets["relu2_2"]}
    d = P.gram_matrix(f1["relu2_2"]) - t1["relu2_2"]
    c = d.shape[-1]
    got = _style_value(fn, f1, t1, {"relu2_2": 1.0})
    expected = float(d.square().sum())
    _expect(
        got,
        expected,
        "one layer, one image, weight 1: ||G - A||²_F",
        f"that is the mean over the {c}x{c} entries: ||.||²_F sums them"
        if math.isclose(got, expected / c**2, rel_tol=1e-4)
        else "that is ||G - A||_F, not squared"
        if math.isclose(got, math.sqrt(expected), rel_tol=1e-4)
        else "that is the sum of |G - A| (L1): square the differences"
        if math.isclose(got, float(d.abs().sum()), rel_tol=1e-4)
        else "use your gram_matrix (normalised by C H W) on the features; the targets are already Gram matrices"
        if _matches_other_norm(got, f1["relu2_2"], t1["relu2_2"])
        else "",
    )
    # Two images, one target: the mean over the batch.
    f2 = {"relu2_2": feats["relu2_2"]}
    per_image = (P.gram_matrix(f2["relu2_2"]) - t1["relu2_2"]).square().sum(dim=(1, 2))
    got = _style_value(fn, f2, t1, {"relu2_2": 1.0})
    _expect(
        got,
        float(per_image.mean()),
        "two images against one target Gram (1, C, C)",
        "that is the sum over the batch: average over the images"
        if math.isclose(got, float(per_image.sum()), rel_tol=1e-4)
        else "that is only the first image: compare every image's Gram with the target (it broadcasts)"
        if math.isclose(got, float(per_image[0]), rel_tol=1e-4)
        else "",
    )
    # Several layers with weights.
    dist = {k: float((P.gram_matrix(feats[k]) - targets[k]).square().sum(dim=(1, 2)).mean()) for k in feats}
    got = _style_value(fn, feats, targets, weights)
    expected = sum(weights[k] * dist[k] for k in feats)
    unweighted = sum(dist.values())
    hint = (
        "the layer weights are missing: multiply each layer's distance by layer_weights[layer]"
        if math.isclose(got, unweighted, rel_tol=1e-4)
        else "the layer weights are squared: multiply by w, not w²"
        if math.isclose(got, sum(weights[k] ** 2 * dist[k] for k in feats), rel_tol=1e-4)
        else "that is the average over the layers: add them up"
        if math.isclose(got, expected / len(feats), rel_tol=1e-4)
        else "that is divided by the sum of the weights: add the weighted terms up, without normalising"
        if math.isclose(got, expected / sum(weights.values()), rel_tol=1e-4)
        else "only one layer counted: loop over every layer of target_grams (is the return inside the loop?)"
        if any(math.isclose(got, weights[k] * dist[k], rel_tol=1e-4) for k in feats)
        else "only some layers counted: loop over every layer of target_grams"
        if any(math.isclose(got, expected - weights[k] * dist[k], rel_tol=1e-4) for k in feats)
        else ""
    )
    _expect(got, expected, "three layers (C = 3, 5, 4) with weights 0.5, 2, 0.25", hint)
    _expect(_style_value(fn, feats, targets, weights), float(ref["style"]["expected"]), "the stored reference case")
    leaf = {k: v.clone().requires_grad_(True) for k, v in feats.items()}
    _backward_from(_run(fn, "style_loss", leaf, targets, weights), "style_loss", "features")
    if any(v.grad is None or not v.grad.abs().sum() > 0 for v in leaf.values()):
        raise AssertionError(
            "no gradient reached the features of every layer: build the loss from them with torch "
            "operations, without detach()"
        )
    print(
        "✓ style_loss passes 6 checks (equal Grams, one layer, the batch mean, layer weights, stored reference, "
        "gradients)"
    )


def _matches_other_norm(got: float, feat: Tensor, target: Tensor) -> bool:
    """Whether ``got`` is the one-layer distance with the features' Gram normalised by H W or not at all."""
    from ... import perceptual as P

    return any(
        math.isclose(got, float((P.gram_matrix(feat, n) - target).square().sum()), rel_tol=1e-4) for n in ("hw", "none")
    )


def check_content_loss(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(feat (B, C, H, W), target_feat (B or 1, C, H, W)) -> scalar``: the feature reconstruction loss,
    the mean of (feat - target)² over every value (||.||²_2 / (C H W), averaged over the batch)."""
    ref = load_perceptual_reference()
    zeros = torch.zeros(3, 4, 3, 5)  # a batch of 3: the usual mistakes all give different values

    def value(feat: Tensor, target: Tensor) -> float:
        return _value(_run(fn, "content_loss", feat, target), "content_loss")

    _expect(value(zeros.clone(), zeros.clone()), 0.0, "equal features")
    got = value(zeros + 0.5, zeros.clone())
    n, per_image = zeros.numel(), zeros[0].numel()
    _expect(
        got,
        0.25,
        "every feature off by 0.5",
        "that is the sum of the squares: take the mean (divide by C H W, and by the batch)"
        if math.isclose(got, 0.25 * n, rel_tol=1e-4)
        else "that is divided by C H W but summed over the batch: average over the images too"
        if math.isclose(got, 0.25 * n / per_image, rel_tol=1e-4)
        else "that is the absolute error (L1): square the differences"
        if math.isclose(got, 0.5, rel_tol=1e-4)
        else "that is the norm ||.||_2, not its square divided by the size"
        if math.isclose(got, 0.5 * math.sqrt(n), rel_tol=1e-4)
        else "that is divided by the batch size only: divide by every value's count (C H W per image)"
        if math.isclose(got, 0.25 * n / len(zeros), rel_tol=1e-4)
        else "the content loss has no 1/2 in front here: the mean of the squares"
        if math.isclose(got, 0.125, rel_tol=1e-4)
        else "",
    )
    got = value(zeros.clone(), zeros[:1] - 0.5)
    _expect(
        got,
        0.25,
        "two images against one target (1, C, H, W) off by -0.5",
        "square the difference: a feature below its target costs as much as one above"
        if math.isclose(got, -0.5, rel_tol=1e-4)
        else "",
    )
    _expect(
        value(ref["content"]["feat"], ref["content"]["target"]),
        float(ref["content"]["expected"]),
        "the stored reference case",
        "the mean over every value of (feat - target)²",
    )
    feat = ref["content"]["feat"].clone().requires_grad_(True)
    _backward_from(_run(fn, "content_loss", feat, ref["content"]["target"]), "content_loss", "features")
    expected = 2 * (ref["content"]["feat"] - ref["content"]["target"]) / feat.numel()
    if feat.grad is None or not torch.allclose(feat.grad, expected, atol=1e-6):
        raise AssertionError(
            "the gradient with respect to feat should be 2 (feat - target) / (number of values): "
            "build the loss with torch operations, without detach()"
        )
    print(
        "✓ content_loss passes 5 checks (equal features, a constant offset, broadcasting the target, stored "
        "reference, gradient)"
    )


def check_total_variation(fn: Callable[[Tensor], Tensor]) -> None:
    """Check ``fn(x (N, C, H, W)) -> scalar``: mean of the squared differences between horizontal neighbours plus
    mean of the squared differences between vertical neighbours."""
    ref = load_perceptual_reference()

    def value(x: Tensor) -> float:
        return _value(_run(fn, "total_variation", x), "total_variation")

    _expect(value(torch.full((2, 3, 5, 7), 0.3)), 0.0, "a constant image", "neighbours are equal: nothing varies")
    across = torch.linspace(-1, 1, 7).mul(1.5).view(1, 1, 1, 7).expand(2, 3, 5, 7).contiguous()  # steps of 0.5 along W
    down = torch.linspace(-1, 1, 5).view(1, 1, 5, 1).expand(2, 3, 5, 7).contiguous()  # steps of 0.5 along H
    got_w, got_h = value(across), value(down)
    one_way = "you only take differences along one direction: add the other, "
    pairs_w, pairs_h = 2 * 3 * 5 * 6, 2 * 3 * 4 * 7  # neighbour pairs along W and along H

    def hint(got: float, pairs: int, wrap: float) -> str:
        close = lambda v: math.isclose(got, v, rel_tol=1e-4)  # noqa: E731
        return (
            "that is |.| (the beta = 1 total variation): square the differences"
            if close(0.5) or close(0.5 * pairs)
            else "that is the sum: take the mean of each direction's squared differences"
            if close(0.25 * pairs)
            else "that is the average of the two directions: add them"
            if close(0.125)
            else "torch.roll wraps around: the last column (row) is compared with the first; slice instead"
            if close(wrap)
            else ""
        )

    _expect(
        got_w,
        0.25,
        "an image that changes only from left to right (steps of 0.5 along W)",
        one_way + "x[..., :, 1:] - x[..., :, :-1] (horizontal neighbours)"
        if abs(got_w) < 1e-6
        else hint(got_w, pairs_w, (6 * 0.25 + 9) / 7),
    )
    _expect(
        got_h,
        0.25,
        "an image that changes only from top to bottom (steps of 0.5 along H)",
        one_way + "x[..., 1:, :] - x[..., :-1, :] (vertical neighbours)"
        if abs(got_h) < 1e-6
        else hint(got_h, pairs_h, (4 * 0.25 + 4) / 5),
    )
    checker = (torch.arange(5).view(5, 1) + torch.arange(7).view(1, 7)) % 2 * 2.0 - 1
    got = value(checker.expand(2, 3, 5, 7).contiguous())
    _expect(
        got,
        8.0,
        "a ±1 checkerboard (every neighbour differs by 2)",
        "that is the average of the two directions: add them (4 + 4)" if math.isclose(got, 4.0, rel_tol=1e-4) else "",
    )
    _expect(value(ref["tv"]["x"]), float(ref["tv"]["expected"]), "the stored reference case")
    x = ref["tv"]["x"].clone().requires_grad_(True)
    _backward_from(_run(fn, "total_variation", x), "total_variation", "image")
    if x.grad is None or not x.grad.abs().sum() > 0:
        raise AssertionError("no gradient reached the image: build the loss with torch operations, without detach()")
    print(
        "✓ total_variation passes 6 checks (a constant image, each direction alone, a checkerboard, stored "
        "reference, gradient)"
    )


# --------------------------------------------------------------------------- notebook 10: anonymisation with a passcode
_PC_IMAGES = torch.linspace(-1, 1, 2 * 1 * 3 * 5).reshape(2, 1, 3, 5)
_PC_CODES = torch.tensor([[1.0, -1.0, 1.0, 1.0], [-1.0, 1.0, 1.0, -1.0]])
_STORED_PASSCODE_INPUT = (
    0.3948730230331421  # (passcode_input(_PC_IMAGES, _PC_CODES) * cos(arange(150)).reshape(2, 5, 3, 5)).sum()
)


def check_passcode_input(fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Check ``fn(images (N, C, H, W), codes (N, B) in {-1, +1}) -> (N, C + B, H, W)``: the image first, then bit k of
    sample i as a constant H x W plane in channel C + k of sample i, values -1 and +1 as given."""
    images = torch.linspace(-0.9, 0.9, 3 * 2 * 3 * 5).reshape(3, 2, 3, 5)  # N=3, C=2, H=3, W=5 (not square)
    codes = torch.tensor([[1.0, -1.0, -1.0, 1.0], [-1.0, -1.0, 1.0, 1.0], [1.0, 1.0, -1.0, -1.0]])  # rows all differ
    out = _run(
        fn,
        "passcode_input",
        images,
        codes,
        hint="Turn codes (N, B) into planes (N, B, H, W) with "
        "codes[:, :, None, None].expand(...) and join them after the images with torch.cat along dim=1.",
    )
    if not isinstance(out, Tensor):
        raise AssertionError(f"return a torch.Tensor, got {type(out).__name__}")
    if tuple(out.shape) != (3, 6, 3, 5):
        got = tuple(out.shape)
        hint = (
            "that is the codes' planes alone: the image was dropped. G must see the face it anonymises, so "
            "put the image first, then the planes"
            if got == (3, 4, 3, 5)
            else "that is the image alone: the passcode is missing"
            if got == (3, 2, 3, 5)
            else "H and W are swapped: the planes must have the image's height and width"
            if got == (3, 6, 5, 3)
            else _concat_hint(got, (3, 2, 3, 5), (3, 4, 3, 5))
        )
        raise AssertionError(
            f"images (3, 2, 3, 5) with passcodes (3, 4) must give (3, 6, 3, 5): C + B channels, got {got}. {hint}"
        )
    if not torch.is_floating_point(out):
        raise AssertionError(f"return a floating-point tensor (the generator's input), got {out.dtype}")
    if not torch.equal(out[:, :2], images):
        code_first = torch.equal(out[:, 4:], images)
        raise AssertionError(
            "the first C channels must be the image itself, unchanged"
            + (
                ": you put the passcode planes first. The convention here is the image first, then "
                "the B planes (the generator's first layer expects that order)"
                if code_first
                else ": use torch.cat([images, planes], dim=1)"
            )
        )
    planes = out[:, 2:]
    flat = planes.flatten(2)  # (N, B, H W)
    if not torch.equal(flat, flat[:, :, :1].expand_as(flat)):
        rows = planes[:, :, :1, :]
        only_one_row = bool((planes[:, :, 1:] == 0).all()) and torch.equal(
            rows[:, :, 0, :].amax(-1).abs(), torch.ones(3, 4)
        )
        raise AssertionError(
            "each bit must fill its whole H x W plane with one value (a constant plane per bit), but "
            "the planes vary over the pixels"
            + (
                ": only the first row holds the code. Tile the codes over every row and column with "
                "codes[:, :, None, None].expand(N, B, H, W)"
                if only_one_row
                else ": the codes were not tiled over H and W (a reshape of a repeated tensor mixes the bits "
                "up; use codes[:, :, None, None].expand(N, B, H, W))"
            )
        )
    values = flat[:, :, 0]  # (N, B): the constant of each plane
    if torch.equal(values, (codes + 1) / 2):
        raise AssertionError(
            "the planes hold the bits as 0 and 1: the convention here is -1 and +1 (centred, like the "
            "images, and the inverse passcode is simply -p). Use the codes as they are"
        )
    if not torch.equal(values, codes):
        mixed = any(torch.equal(values[i], codes[j]) for i in range(3) for j in range(3) if i != j)
        raise AssertionError(
            f"plane k of sample i must hold codes[i, k]: expected {codes.tolist()}, got {values.tolist()}"
            + (
                ": some sample got another sample's passcode (the batch is mixed up: "
                "codes.repeat(...) tiles the whole batch, repeat_interleave tiles each row; "
                "expand(N, B, H, W) after codes[:, :, None, None] keeps every code with its image)"
                if mixed
                else ""
            )
        )
    wide = _run(fn, "passcode_input", torch.zeros(2, 1, 4, 4), torch.ones(2, 16))
    if tuple(wide.shape) != (2, 17, 4, 4):
        raise AssertionError(
            f"a gray image (1 channel) with 16-bit passcodes must give 17 channels, got {tuple(wide.shape)}: "
            "use C and B from the inputs' shapes, not fixed numbers"
        )
    weights = torch.cos(torch.arange(150.0)).reshape(2, 5, 3, 5)
    _expect(
        float((_run(fn, "passcode_input", _PC_IMAGES, _PC_CODES) * weights).sum()),
        _STORED_PASSCODE_INPUT,
        "the stored reference case",
    )
    x = images.clone().requires_grad_(True)
    out = _run(fn, "passcode_input", x, codes)
    if out.requires_grad:
        _backward(out.sum(), "passcode_input")
    if x.grad is None or not torch.equal(x.grad, torch.ones_like(x)):
        raise AssertionError(
            "the gradient must flow back to the images unchanged (the recovery loss trains G through "
            "its input, the anonymised face): build the result with torch.cat, without detach()"
        )
    print(
        "✓ passcode_input passes 8 checks (shape, image first, constant planes, ±1 bits, each sample's own code, "
        "channel counts, stored reference, gradient)"
    )


# --------------------------------------------------------------------------- notebook 10: video translation
def _flicker_mistakes(frames: Tensor, labels: Tensor) -> dict[str, float]:
    """What the usual wrong flicker metrics give on frames (T, C, H, W) and labels (T, H, W), each with its hint."""
    change = (frames[1:] - frames[:-1]).abs()  # (T - 1, C, H, W)
    same = labels[1:] == labels[:-1]  # (T - 1, H, W)
    pooled = lambda c, m: float(c[m].mean())  # noqa: E731
    wrap_change = (frames - frames.roll(1, 0)).abs().mean(1)
    return {
        "that counts every pixel: keep only the pixels whose label is the same in frames t - 1 and t "
        "(labels[1:] == labels[:-1])": float(change.mean()),
        "that keeps the pixels whose label CHANGES: keep those where labels[1:] == labels[:-1]": pooled(
            change.mean(1), ~same
        ),
        "that averages over every pixel with the changed ones set to 0: divide by the number of unchanged pixels "
        "(index with the mask, then .mean())": float((change.mean(1) * same).mean()),
        "that squares the differences: take the absolute difference |frames[t] - frames[t - 1]|": pooled(
            (frames[1:] - frames[:-1]).square().mean(1), same
        ),
        "that is the sum: take the mean over the unchanged pixels": float(change.mean(1)[same].sum()),
        "that sums over the channels: average |.| over the C channels": pooled(change.sum(1), same),
        "that uses channel 0 only: average over all C channels": pooled(change[:, 0], same),
        "that compares every frame with the first one: compare frame t with frame t - 1 (frames[1:] - frames[:-1])": pooled(
            (frames[1:] - frames[:1]).abs().mean(1), labels[1:] == labels[:1]
        ),
        "that compares every frame with the first one (the mask is right): compare frame t with frame t - 1": pooled(
            (frames[1:] - frames[:1]).abs().mean(1), same
        ),
        "that wraps around (torch.roll): the last frame is compared with the first; slice frames[1:] - frames[:-1]": pooled(
            wrap_change, labels == labels.roll(1, 0)
        ),
        "that leaves out the last pair of frames: t runs over 1..T-1": pooled(change[:-1].mean(1), same[:-1]),
        "that leaves out the first pair of frames: t runs over 1..T-1": pooled(change[1:].mean(1), same[1:]),
        "that compares frames two apart: consecutive frames are t - 1 and t": pooled(
            (frames[2:] - frames[:-2]).abs().mean(1), labels[2:] == labels[:-2]
        ),
        "that averages each pair's mean over the pairs: pool the unchanged pixels of all pairs, then take one mean": float(
            torch.stack([change[t].mean(0)[same[t]].mean() for t in range(len(same))]).mean()
        ),
    }


def check_flicker(fn: Callable[[Tensor, Tensor], object]) -> None:
    """Check ``fn(frames (T, C, H, W), labels (T, H, W)) -> float``: the mean over the frame pairs (t - 1, t) and the
    pixels whose label is the same in both of |frames[t] - frames[t - 1]|, averaged over the channels."""

    def value(frames: Tensor, labels: Tensor) -> float:
        got = fn(frames.clone(), labels.clone())
        if isinstance(got, Tensor):
            if got.numel() != 1:
                raise AssertionError(
                    f"flicker must return one number (a float or a scalar tensor), got shape "
                    f"{tuple(got.shape)}: average over the pairs, the pixels and the channels"
                )
            return float(got)
        if not isinstance(got, (float, int)):
            raise AssertionError(f"flicker must return a float, got {type(got).__name__}")
        return float(got)

    def compare(frames: Tensor, labels: Tensor, case: str) -> None:
        got = value(frames, labels)
        expected = float((frames[1:] - frames[:-1]).abs().mean(1)[labels[1:] == labels[:-1]].mean())
        hint = next(
            (
                h
                for h, v in _flicker_mistakes(frames, labels).items()
                if math.isclose(got, v, rel_tol=1e-4, abs_tol=1e-6)
            ),
            "",
        )
        _expect(got, expected, case, hint)

    # First random frames and labels, where every known mistake gives a different number (so the hint is sure).
    gen = torch.Generator().manual_seed(10)
    frames = torch.rand(6, 3, 5, 7, generator=gen) * 2 - 1
    labels = (torch.rand(6, 5, 7, generator=gen) < 0.25).long() + (torch.rand(6, 5, 7, generator=gen) < 0.1).long()
    compare(frames, labels, "random frames (6, 3, 5, 7) with random labels (6, 5, 7)")
    # By hand: pixel (0, 0) keeps its label; its channel 0 steps by 0.4 at t = 1 and stays, so the channel means are
    # 0.4 / 3 for the pair (0, 1) and 0 for (1, 2): flicker 0.4 / 6. Pixel (0, 1) changes its label at t = 1 and back
    # at t = 2, with a big step: it is left out of both pairs.
    labels = torch.zeros(3, 1, 2, dtype=torch.int64)
    labels[1, 0, 1] = 1
    frames = torch.zeros(3, 3, 1, 2)
    frames[1:, 0, 0, 0] = 0.4
    frames[1, :, 0, 1] = 0.9
    compare(frames, labels, "by hand: 3 frames of 1 x 2 pixels, one pixel changes its label (expected 0.4 / 6)")
    # A moving square on a still background: only the background counts.
    labels = torch.zeros(5, 8, 8, dtype=torch.int64)
    frames = torch.zeros(5, 3, 8, 8) + torch.linspace(-0.5, 0.5, 8)
    frames[:, 1] += 0.1 * torch.arange(5).view(5, 1, 1)  # the green channel brightens a little every frame
    for t in range(5):
        labels[t, 2:5, t : t + 3] = 1
        frames[t, :, 2:5, t : t + 3] = 0.9
    compare(frames, labels, "a square moving right on a background whose green brightens by 0.1 a frame")
    still = torch.full((4, 3, 2, 3), 0.3)
    _expect(value(still, torch.zeros(4, 2, 3, dtype=torch.int64)), 0.0, "a video that does not change")
    print("✓ flicker passes 4 checks (random frames and labels, a case by hand, a moving square, a still video)")


# --------------------------------------------------------------------------- notebook 10: the deepfake detector's step
def _detector_case(seed: int) -> tuple[torch.nn.Module, Tensor, Tensor, Tensor]:
    """A tiny linear detector on (4, 1, 3, 3) images, real images, and fakes made by a 'generator' parameter."""
    gen = torch.Generator().manual_seed(seed)
    detector = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(9, 1))
    with torch.no_grad():
        detector[1].weight.copy_(torch.randn(1, 9, generator=gen) * 0.5)
        detector[1].bias.fill_(0.2)
    real = torch.rand(4, 1, 3, 3, generator=gen) * 2 - 1
    scale = torch.ones((), requires_grad=True)  # the generator's one weight: fakes depend on it
    fake = scale * (torch.rand(4, 1, 3, 3, generator=gen) * 2 - 1)
    return detector, real, fake, scale


def _detector_loss(
    detector: torch.nn.Module, real: Tensor, fake: Tensor, real_label: float = 1.0, reduce: str = "mean"
) -> Tensor:
    logits = detector(torch.cat([real, fake.detach()]))
    labels = torch.cat([torch.full((len(real), 1), real_label), torch.full((len(fake), 1), 1 - real_label)])
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction=reduce)


def check_detector_step(fn: Callable[[torch.nn.Module, torch.optim.Optimizer, Tensor, Tensor], object]) -> None:
    """Check ``fn(detector, optimiser, real (N, C, H, W), fake (N, C, H, W)) -> loss``: one step of binary
    cross-entropy on the logits, real labelled 1 and fake 0, mean over all 2N images, gradients zeroed first,
    the fakes detached from the generator, one optimiser step."""
    import copy

    for seed in (0, 1):
        detector, real, fake, scale = _detector_case(seed)
        reference = copy.deepcopy(detector)
        expected = _detector_loss(reference, real, fake)
        opt_ref = torch.optim.SGD(reference.parameters(), lr=0.5)
        opt_ref.zero_grad()
        expected.backward()
        opt_ref.step()
        expected = float(expected.detach())
        for p in detector.parameters():  # stale gradients, as a previous step would leave them
            p.grad = torch.full_like(p, 3.0)
        before = [p.detach().clone() for p in detector.parameters()]
        got = fn(detector, torch.optim.SGD(detector.parameters(), lr=0.5), real, fake)
        case = f"case {seed + 1}: a linear detector on 4 real and 4 fake 3x3 images"
        if not isinstance(got, (Tensor, float)) or (isinstance(got, Tensor) and got.numel() != 1):
            raise AssertionError(
                f"{case}: return the loss, one number (a scalar tensor or a float), got {type(got).__name__}"
            )
        value = float(got.detach()) if isinstance(got, Tensor) else float(got)
        with torch.no_grad():
            hints = {
                float(
                    _detector_loss(_detector_case(seed)[0], real, fake, 0.0)
                ): "Real images are labelled 1 and fakes 0 (you swapped them).",
                float(
                    _detector_loss(_detector_case(seed)[0], real, fake, 1.0, "sum")
                ): "Average over the 2N images (you summed).",
                float(
                    _detector_loss(_detector_case(seed)[0], real[:0], fake)
                ): "Both halves count: the loss has a term for the real images too.",
                float(
                    _detector_loss(_detector_case(seed)[0], real, fake[:0])
                ): "Both halves count: the loss has a term for the fake images too.",
            }
        if not math.isclose(value, expected, rel_tol=1e-4, abs_tol=1e-6):
            hint = next((h for v, h in hints.items() if math.isclose(value, v, rel_tol=1e-4)), "")
            raise AssertionError(
                f"{case}: the loss should be {expected:.6g}, got {value:.6g}. {hint} "
                "Use F.binary_cross_entropy_with_logits on the detector's logits.".strip()
            )
        if scale.grad is not None:
            raise AssertionError(
                f"{case}: gradients reached the generator. Detach the fakes (fake.detach()): the "
                "detector's step must leave the generator alone."
            )
        after = list(detector.parameters())
        if all(torch.equal(a, b) for a, b in zip(after, before)):
            raise AssertionError(
                f"{case}: the detector's weights did not change: call optimiser.step() after loss.backward()."
            )
        if not all(torch.allclose(a, b, atol=1e-5) for a, b in zip(after, reference.parameters())):
            raise AssertionError(
                f"{case}: the loss is right but the step is not: the weights moved as if old "
                "gradients were still there. Call optimiser.zero_grad() before loss.backward()."
            )
    print("✓ detector_step passes 2 checks (loss value, labels, mean, detached fakes, zeroed gradients, one step)")


# --------------------------------------------------------------------------- errors raised inside the learner's code
def _describe(value: object) -> str:
    """A short description of an argument: a tensor's shape and dtype, a module's class, else its type."""
    if isinstance(value, Tensor):
        return f"a {str(value.dtype).replace('torch.', '')} tensor of shape {tuple(value.shape)}"
    if isinstance(value, torch.nn.Module):
        return f"a {type(value).__name__} module"
    if isinstance(value, (int, float, str)):
        return repr(value)
    return f"a {type(value).__name__}"


def _explain_errors(check: Callable[..., None]) -> Callable[..., None]:
    """Wrap a ``check_*`` so that an exception raised inside the learner's function (not an AssertionError of the
    check) carries a note naming the function and the arguments the check gave it — or, for the blank's
    NotImplementedError, saying that the function is not written yet — then propagates unchanged."""
    import functools
    import inspect

    @functools.wraps(check)
    def run(fn: object, *args: object, **kwargs: object) -> None:
        if not inspect.isfunction(fn):  # classes (the image pool) and other callables are passed through untouched
            return check(fn, *args, **kwargs)
        name = fn.__name__

        @functools.wraps(fn)
        def called(*a: object, **k: object) -> object:
            try:
                return fn(*a, **k)
            except Exception as err:
                if isinstance(err, NotImplementedError) and hasattr(err, "add_note"):
                    err.add_note(
                        f"\n>>> {name} is still the blank: replace its `raise NotImplementedError(...)` line "
                        "with your code, run that cell (Shift+Enter), then run this check again."
                    )
                elif hasattr(err, "add_note") and not isinstance(err, AssertionError):
                    given = ", ".join([_describe(v) for v in a] + [f"{key}={_describe(v)}" for key, v in k.items()])
                    err.add_note(
                        f"\n>>> This error was raised inside YOUR {name}, called by {check.__name__} with: "
                        f"{given}.\n>>> The traceback above points at the line of your code that failed; "
                        "compare the shapes there with the ones the exercise asks for."
                    )
                raise

        return check(called, *args, **kwargs)

    return run


for _name in [n for n in list(globals()) if n.startswith("check_")]:
    globals()[_name] = _explain_errors(globals()[_name])
del _name
