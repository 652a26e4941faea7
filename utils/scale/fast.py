"""The fast path: one switch that makes the course's convnets train fast on an NVIDIA GPU, and the training steps of
pix2pix, CycleGAN and fast style transfer run on it. The steps own the infrastructure only (autocast, memory format,
fused and capturable optimisers, fixed input tensors for CUDA graphs); every loss term is the lessons' own function
(``utils.pix2pix.pix2pix_discriminator_loss`` / ``pix2pix_generator_loss``, ``utils.cyclegan.lsgan_*_loss`` /
``cycle_loss`` / ``identity_loss``, ``utils.perceptual.perceptual_objective``), so a change to a lesson's loss
reaches the fast path too.

:func:`speed` is the switch. ``speed(False)`` is the plain path of the notebooks' first pass; ``speed(True)`` turns on,
where the device has them:

* bf16 autocast (CUDA): convolutions and matrix products run in bfloat16 on the tensor cores; every loss term is
  computed in float32 from float32 copies of the network outputs (a Gram matrix of bf16 features would round away
  the small differences the style loss measures), and the weights and Adam's moments stay float32;
* channels-last memory format for weights and images (NHWC: what cuDNN's fastest convolution kernels want);
* ``torch.compile`` of every network (fused elementwise kernels; ``compile_mode="reduce-overhead"`` adds CUDA graphs
  around each network), compiled for fixed shapes (``dynamic=False``: one set of kernels per batch shape);
* CUDA graphs of whole steps where the step allows (``cuda_graph``: a step on fixed input tensors, forward, backward
  and optimiser, captured once by :func:`graphed` and replayed: one launch instead of hundreds; used by
  ``python -m utils.scale.bench``, whose steps read fixed tensors; a loop copies each batch into them);
* fused Adam (one kernel for the whole update instead of a few per parameter);
* cuDNN autotuning (``torch.backends.cudnn.benchmark``: the fastest convolution algorithm for each shape, found once);
* no host-device synchronisation inside a step: the steps below return detached tensors, and the loops add them up
  on the device and read them back every ``log_every`` steps, never ``.item()`` per step.

None of this changes what is learned: ``tests/test_fast.py`` checks that the fast and plain paths give the same
losses over a few steps on the CPU (bf16 excepted: it rounds, by design). Images are (N, C, H, W) in [-1, 1].
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import torch
from torch import Tensor, nn

from .. import cyclegan, perceptual, pix2pix

COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
T = TypeVar("T")
GRAPH_WARMUP = 3  # ordinary steps before a step is captured (see graphed)


@dataclass(frozen=True)
class Speed:
    """What the fast path turns on (all off: the plain path). See the module docstring for each item."""

    bf16: bool = False
    channels_last: bool = False
    compile: bool = False
    compile_mode: str = "default"
    fused_adam: bool = False
    cudnn_benchmark: bool = False
    cuda_graph: bool = False

    def __str__(self) -> str:
        on = [
            name
            for name in ("bf16", "channels_last", "compile", "fused_adam", "cudnn_benchmark", "cuda_graph")
            if getattr(self, name)
        ]
        if self.compile and self.compile_mode != "default":
            on[on.index("compile")] = f"compile ({self.compile_mode})"
        return "fast: " + ", ".join(on) if on else "plain"


PLAIN = Speed()


def speed(fast: bool = True, device: torch.device | str | None = None, **overrides: object) -> Speed:
    """The switch: ``fast=False`` -> :data:`PLAIN`; ``fast=True`` -> everything that helps on ``device``.

    On CUDA: bf16, channels-last, compile, fused Adam, cuDNN autotuning (``cuda_graph=True`` adds whole-step CUDA
    graphs, for steps on fixed input tensors: see :func:`graphed`). On the CPU: fused Adam only. Measured on
    the course's 2-core CPU at 256x256 (appendix notebook): channels-last alone made CycleGAN's step 24 % slower,
    compiling gained at most 5 % for a minute or more of compiling per network, and most CPUs have no fast bf16.
    Ask for any of them with keyword overrides, e.g. ``speed(True, "cpu", channels_last=True, compile=True)``.
    """
    if not fast:
        return replace(PLAIN, **overrides)
    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    cuda = dev.type == "cuda"
    sp = replace(Speed(bf16=cuda, channels_last=cuda, compile=cuda, fused_adam=True, cudnn_benchmark=cuda), **overrides)
    if sp.compile_mode not in COMPILE_MODES:
        raise ValueError(f"compile_mode must be one of {COMPILE_MODES}, got {sp.compile_mode!r}")
    if sp.cuda_graph and not cuda:
        raise ValueError(f"cuda_graph needs a CUDA device, got {dev}")
    return sp


def memory_format(sp: Speed) -> torch.memory_format:
    """channels_last when the fast path asks for it, else contiguous (NCHW)."""
    return torch.channels_last if sp.channels_last else torch.contiguous_format


def prepare(net: nn.Module, sp: Speed, device: torch.device | str) -> nn.Module:
    """Move ``net`` to ``device`` in the memory format of ``sp`` (in place; returns it) and set cuDNN autotuning."""
    if sp.cudnn_benchmark:
        torch.backends.cudnn.benchmark = True
    return net.to(device=device, memory_format=memory_format(sp))


def compiled(net: nn.Module, sp: Speed) -> nn.Module:
    """``torch.compile(net)`` when ``sp.compile`` is on, else ``net`` itself (the weights are shared either way)."""
    return torch.compile(net, mode=sp.compile_mode, dynamic=False) if sp.compile else net


def images(x: Tensor, sp: Speed, device: torch.device | str) -> Tensor:
    """A batch (N, C, H, W) on ``device`` in the memory format of ``sp`` (asynchronously from pinned memory)."""
    return x.to(device=device, non_blocking=True, memory_format=memory_format(sp))


def adam(params: object, sp: Speed, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999)) -> torch.optim.Adam:
    """Adam over ``params``, fused into one kernel when ``sp.fused_adam`` (the same update, computed at once), with its
    step count on the device when ``sp.cuda_graph`` (capturable: the update can be replayed from a CUDA graph)."""
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=sp.fused_adam or None, capturable=sp.cuda_graph)


def autocast(sp: Speed, device: torch.device | str) -> contextlib.AbstractContextManager:
    """bf16 autocast on ``device`` when ``sp.bf16``, else a context that does nothing."""
    dev = torch.device(device)
    return torch.autocast(dev.type, dtype=torch.bfloat16) if sp.bf16 else contextlib.nullcontext()


def fp32(device: torch.device | str) -> contextlib.AbstractContextManager:
    """Autocast off on ``device``: what every loss term is computed under, from ``.float()`` inputs."""
    return torch.autocast(torch.device(device).type, enabled=False)


def graphed(
    step: Callable[[], T], warmup: int = GRAPH_WARMUP, feed: Callable[[int], None] | None = None
) -> Callable[[], T]:
    """Capture a whole training ``step`` (forward, backward, optimiser, on fixed input tensors) in a CUDA graph; returns
    a function that replays it and returns the captured call's outputs (tensors that each replay overwrites).

    ``step`` runs ``warmup`` times first, on a side stream, as ordinary training steps: that is where torch.compile
    compiles, cuDNN autotunes and Adam creates its state; ``feed(i)``, if given, runs before warm-up call i (to copy
    batch i in). To train on new data, copy each batch into the tensors the step reads (``x.copy_(batch)``) before
    each replay. The optimisers must be capturable (:func:`adam` with
    ``sp.cuda_graph``), the step must not read values back to the host, and its shapes must not change.
    """
    if not torch.cuda.is_available():
        raise RuntimeError("graphed() captures CUDA graphs and needs a CUDA GPU; PyTorch sees none here")
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for i in range(warmup):
            if feed is not None:
                feed(i)
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, capture_error_mode="thread_local"):
        out = step()

    def replay() -> T:
        graph.replay()
        return out

    return replay


# --------------------------------------------------------------------------- pix2pix
def train_step_pix2pix(
    generator: nn.Module,
    discriminator: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    a: Tensor,
    b: Tensor,
    sp: Speed,
    lambda_l1: float = 100.0,
    d_for_g: nn.Module | None = None,
) -> dict[str, Tensor]:
    """One pix2pix step (D step, then G step: the same losses as :func:`utils.pix2pix.pix2pix_step`) on a
    (N, C_a, H, W) -> b (N, C_b, H, W); returns detached scalar tensors ``d_loss``, ``g_loss``, ``g_gan``, ``l1``.

    ``d_for_g``: the module through which G's loss reaches D (default ``discriminator``); under
    DistributedDataParallel pass the unwrapped D, whose gradients are not wanted in the G step.
    """
    d_for_g = discriminator if d_for_g is None else d_for_g
    dev = a.device
    with autocast(sp, dev):
        fake = generator(a)
        real_logits = discriminator(pix2pix.conditional_pair(a, b))
        fake_logits = discriminator(pix2pix.conditional_pair(a, fake.detach()))
    with fp32(dev):
        loss_d = pix2pix.pix2pix_discriminator_loss(real_logits.float(), fake_logits.float())
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    d_for_g.requires_grad_(False)  # G's step leaves D's weights (and their gradients) alone
    with autocast(sp, dev):
        g_logits = d_for_g(pix2pix.conditional_pair(a, fake))
    with fp32(dev):
        loss_g, gan, l1 = pix2pix.pix2pix_generator_loss(g_logits.float(), fake.float(), b.float(), lambda_l1)
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    d_for_g.requires_grad_(True)
    return {"d_loss": loss_d.detach(), "g_loss": loss_g.detach(), "g_gan": gan.detach(), "l1": l1.detach()}


# --------------------------------------------------------------------------- CycleGAN
def cyclegan_generator_step(
    nets: cyclegan.CycleGAN,
    opt_g: torch.optim.Optimizer,
    real_a: Tensor,
    real_b: Tensor,
    sp: Speed,
    lambda_cycle: float = 10.0,
    lambda_identity: float = 0.5,
    d_for_g: tuple[nn.Module, nn.Module] | None = None,
) -> tuple[dict[str, Tensor], Tensor, Tensor]:
    """The generators' half of a CycleGAN step on unpaired a (N, C_a, H, W), b (N, C_b, H, W): adversarial, cycle
    and identity losses, one Adam step. Returns detached scalar tensors ``g_gan``, ``cycle``, ``identity`` and the
    detached translations fake_a (N, C_a, H, W), fake_b (N, C_b, H, W) for the pools.

    ``d_for_g`` = (d_a, d_b) through which the generators' loss reaches the discriminators (default: ``nets.d_a``,
    ``nets.d_b``; under DistributedDataParallel pass the unwrapped ones).
    """
    if lambda_cycle <= 0:
        raise ValueError("the fast step trains the full CycleGAN (lambda_cycle > 0); the ablation is in utils.cyclegan")
    d_a_g, d_b_g = d_for_g if d_for_g is not None else (nets.d_a, nets.d_b)
    dev = real_a.device
    for d in (d_a_g, d_b_g):
        d.requires_grad_(False)
    with autocast(sp, dev):
        fake_b, fake_a = nets.g_ab(real_a), nets.g_ba(real_b)
        score_b, score_a = d_b_g(fake_b), d_a_g(fake_a)
        rec_a, rec_b = nets.g_ba(fake_b), nets.g_ab(fake_a)
        same_a, same_b = (nets.g_ba(real_a), nets.g_ab(real_b)) if lambda_identity > 0 else (real_a, real_b)
    with fp32(dev):
        gan = cyclegan.lsgan_generator_loss(score_b.float()) + cyclegan.lsgan_generator_loss(score_a.float())
        cyc = cyclegan.cycle_loss(real_a.float(), rec_a.float(), real_b.float(), rec_b.float())
        idt = cyclegan.identity_loss(real_a.float(), same_a.float(), real_b.float(), same_b.float())
        loss_g = gan + lambda_cycle * cyc + lambda_identity * lambda_cycle * idt
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    for d in (d_a_g, d_b_g):
        d.requires_grad_(True)
    logs = {"g_gan": gan.detach(), "cycle": cyc.detach(), "identity": idt.detach()}
    return logs, fake_a.detach(), fake_b.detach()


def cyclegan_discriminator_step(
    nets: cyclegan.CycleGAN,
    opt_d: torch.optim.Optimizer,
    real_a: Tensor,
    real_b: Tensor,
    fake_a: Tensor,
    fake_b: Tensor,
    sp: Speed,
) -> dict[str, Tensor]:
    """The discriminators' half: LSGAN losses of d_a on real a vs fake_a and of d_b on real b vs fake_b (the pools'
    batches, (N, C, H, W)), one Adam step. Returns detached scalar tensors ``d_a``, ``d_b``."""
    dev = real_a.device
    with autocast(sp, dev):
        scores = (nets.d_a(real_a), nets.d_a(fake_a), nets.d_b(real_b), nets.d_b(fake_b))
    with fp32(dev):
        loss_d_a = cyclegan.lsgan_discriminator_loss(scores[0].float(), scores[1].float())
        loss_d_b = cyclegan.lsgan_discriminator_loss(scores[2].float(), scores[3].float())
    opt_d.zero_grad(set_to_none=True)
    (loss_d_a + loss_d_b).backward()
    opt_d.step()
    return {"d_a": loss_d_a.detach(), "d_b": loss_d_b.detach()}


def train_step_cyclegan(
    nets: cyclegan.CycleGAN,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real_a: Tensor,
    real_b: Tensor,
    pool_a: cyclegan.ImagePool,
    pool_b: cyclegan.ImagePool,
    sp: Speed,
    lambda_cycle: float = 10.0,
    lambda_identity: float = 0.5,
    d_for_g: tuple[nn.Module, nn.Module] | None = None,
) -> dict[str, Tensor]:
    """One CycleGAN step (generators, then discriminators on pooled images: the losses of
    :func:`utils.cyclegan.cyclegan_step`, with ``lambda_cycle > 0``) on unpaired a (N, C_a, H, W), b (N, C_b, H, W).

    Returns detached scalar tensors ``d_a``, ``d_b``, ``g_gan``, ``cycle``, ``identity``. ``d_for_g``: see
    :func:`cyclegan_generator_step`. Under CUDA graphs the two halves are captured apart and the pools run between
    them on the host (their random choices are Python's).
    """
    logs, fake_a, fake_b = cyclegan_generator_step(
        nets, opt_g, real_a, real_b, sp, lambda_cycle, lambda_identity, d_for_g
    )
    logs_d = cyclegan_discriminator_step(nets, opt_d, real_a, real_b, pool_a.query(fake_a), pool_b.query(fake_b), sp)
    return {**logs_d, **logs}


# --------------------------------------------------------------------------- fast style transfer
def loss_features(loss_net: perceptual.LossNetwork, x: Tensor, layers: Sequence[str]) -> dict[str, Tensor]:
    """The loss network's features {layer: (N, C_l, H_l, W_l)} of images x (N, 3, H, W) in [-1, 1] at ``layers``,
    running only up to the deepest of them: the lesson's ``loss_net.normalise`` (shape checks only, nothing read back
    from the device), then its modules ``loss_net.features`` in order, as :meth:`utils.perceptual.LossNetwork.forward`
    does."""
    wanted = {loss_net.layer_index[name]: name for name in layers}
    h = loss_net.normalise(x)
    out: dict[str, Tensor] = {}
    for i, module in enumerate(loss_net.features[: max(wanted) + 1]):
        h = module(h)
        if i in wanted:
            out[wanted[i]] = h
    return out


def float_features(
    loss_net: perceptual.LossNetwork, layers: Sequence[str], sp: Speed, device: torch.device | str
) -> Callable[[Tensor], dict[str, Tensor]]:
    """The loss network as :func:`utils.perceptual.perceptual_objective` sees it on the fast path: images
    (N, 3, H, W) -> {layer: (N, C_l, H_l, W_l)} at ``layers``, the network run under ``sp``'s autocast (bf16
    convolutions) and its features handed back in float32, so the lesson's Gram matrices and losses are float32."""

    def features(x: Tensor) -> dict[str, Tensor]:
        with autocast(sp, device):
            feats = loss_features(loss_net, x, layers)
        return {name: f.float() for name, f in feats.items()}

    return features


def train_step_fast_style(
    net: nn.Module,
    loss_net: perceptual.LossNetwork,
    opt: torch.optim.Optimizer,
    x: Tensor,
    style_grams: Mapping[str, Tensor],
    sp: Speed,
    content_layer: str = "relu2_2",
    content_weight: float = 1.0,
    style_weight: float = 10.0,
    tv_weight: float = 0.0,
) -> dict[str, Tensor]:
    """One step of Johnson et al.'s training (the loop body of :func:`utils.faststyle.train_fast_style`: the lesson's
    :func:`utils.perceptual.perceptual_objective` of net(x) against the content target at ``content_layer`` and the
    style's Gram matrices) on content crops x (N, 3, H, W); ``style_grams``: {layer: (1, C_l, C_l)}, "chw"-normalised,
    in float32. Under the fast path the networks run in bf16; the objective gets float32 copies of their outputs
    (see :func:`float_features`), so the Gram matrices and every loss term are float32. Returns detached scalar
    tensors ``content``, ``style``, ``tv``, ``total``."""
    dev = x.device
    layers = tuple(dict.fromkeys((content_layer, *style_grams)))
    with autocast(sp, dev):
        with torch.no_grad():  # the content target needs the loss network only up to content_layer
            target = loss_features(loss_net, x, (content_layer,))[content_layer]
        y = net(x)
    with fp32(dev):
        terms = perceptual.perceptual_objective(
            float_features(loss_net, layers, sp, dev),  # what the objective calls as loss_net(x)
            y.float(),
            {content_layer: target.float()},
            style_grams,
            content_weight,
            style_weight,
            tv_weight,
        )
    opt.zero_grad(set_to_none=True)
    terms["total"].backward()
    opt.step()
    return {key: terms[key].detach() for key in ("content", "style", "tv", "total")}
