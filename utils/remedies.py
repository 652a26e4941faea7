"""Remedies for mode collapse on 2-D mixtures (notebook 03): each one a step function, a layer or a flag.

``METHODS`` lists them; ``make(method)`` returns ``(G, D, step_fn, train_kwargs)`` so that
``utils.train.train_gan(G, D, sampler, steps, z_dim, step_fn=step_fn, **train_kwargs)`` trains any of them, and
``train_runs`` trains several on the ring and the grid and returns their ``Snapshots2D`` frames keyed by
``(dataset, method)``:

* ``plain`` — notebook 02's GAN at a constant, too high learning rate (1e-2): it collapses (:data:`LEARNING_RATES`);
* ``baseline`` — the same GAN (non-saturating loss, ``utils.train.gan_step``) at learning rate 1e-3;
* ``unrolled`` — Metz et al. (2017): G's loss is computed through a copy of D trained k more steps;
* ``PacGAN`` — Lin et al. (2018): D judges m samples at once, packed into one input of size 2m;
* ``WGAN-GP`` — Gulrajani et al. (2017): a critic with a gradient penalty, five critic steps per G step;
* ``minibatch std`` — Karras et al. (2018): D's last hidden layer also sees the batch's standard deviation.

Every method but ``plain`` anneals its learning rates to 0 over the second half of training (:func:`anneal`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor, nn
from torch.func import functional_call

from . import data, losses, metrics, models, settings, train, validate

StepFn = Callable[..., tuple[Tensor, Tensor]]

#: The methods, in the order the notebook shows them, with a one-line summary each.
METHODS: dict[str, str] = {
    "plain": "notebook 02's GAN at a constant learning rate of 1e-2: it collapses",
    "baseline": "the same GAN (non-saturating loss) at learning rate 1e-3, annealed",
    "unrolled": "unrolled GAN: G looks k D-steps ahead (Metz et al. 2017)",
    "PacGAN": "PacGAN: D sees m samples packed together (Lin et al. 2018)",
    "WGAN-GP": "WGAN-GP: a critic with a gradient penalty, 5 critic steps per G step (Gulrajani et al. 2017)",
    "minibatch std": "minibatch standard deviation feature in D (Karras et al. 2018)",
}

#: The two benchmark mixtures of the mode-collapse papers.
MIXTURES: dict[str, Callable[[], data.Mixture]] = {"ring": data.ring, "grid": data.grid}

#: Adam's learning rate of each method. ``plain`` is notebook 02's GAN at 1e-2 with a constant rate: each
#: generator step moves the whole cloud of samples a long way, D answers by rejecting the mode they crowd into,
#: and G hops to the next one (the mode hopping of Metz et al. 2017) instead of spreading out; training stops
#: wherever the hopping has got to. Every other method anneals its rate (``make(..., steps=...)``).
LEARNING_RATES: dict[str, float] = {
    "plain": 1e-2,
    "baseline": 1e-3,
    "unrolled": 1e-3,
    "PacGAN": 1e-3,
    "WGAN-GP": 3e-4,
    "minibatch std": 1e-3,
}
#: Adam's betas for WGAN-GP, from Gulrajani et al.'s code for their 2-D experiments (the others use (0.5, 0.999)).
WGAN_BETAS = (0.5, 0.9)
#: WGAN-GP's penalty weight lambda. The paper uses 10; the authors' code for their 2-D experiments (gan_toy.py)
#: uses 0.1 ("smaller lambda makes things faster for toy tasks"). With lambda = 10 and a budget of a few
#: thousand generator steps (theirs: 100,000) our critic lagged behind and the generator swung around the ring.
WGAN_GP_WEIGHT = 0.1


# --------------------------------------------------------------------------- annealing the learning rates
def anneal(step_fn: StepFn, steps: int, start: float = 0.5) -> StepFn:
    """Wrap a step function so that both learning rates fall linearly to 0 over the calls after ``start * steps``.

    At a constant learning rate a GAN's samples keep jittering around the modes (each D update moves G's target);
    on the ring a high-quality sample must land within 3 * 0.01 of a mode, so letting them settle matters.
    The wrapper counts its calls: make a new one for every training run.
    """
    validate.positive_int(steps, "steps")
    if not 0 <= start < 1:
        raise ValueError(f"start must be in [0, 1), got {start}")
    calls = 0

    def annealed(
        generator: nn.Module,
        discriminator: nn.Module,
        opt_g: torch.optim.Optimizer,
        opt_d: torch.optim.Optimizer,
        *args,
        **kwargs,
    ) -> tuple[Tensor, Tensor]:
        nonlocal calls
        done = max(0.0, (calls / steps - start) / (1 - start))  # 0 until start * steps, then up to 1
        calls += 1
        for opt in (opt_g, opt_d):
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])
                group["lr"] = group["initial_lr"] * max(0.0, 1 - done)
        return step_fn(generator, discriminator, opt_g, opt_d, *args, **kwargs)

    return annealed


# --------------------------------------------------------------------------- PacGAN: packing
# >>> saved from notebooks/03_mode_collapse.ipynb (edit it there, then run `make save`) >>>
def unroll(
    discriminator: nn.Module,
    real: Tensor,
    fake: Tensor,
    k: int,
    lr: float,
    d_loss: Callable[[Tensor, Tensor], Tensor] = losses.discriminator_loss,
) -> dict[str, Tensor]:
    """D's parameters after k differentiable gradient-descent steps on real (N, 2) and fake (N, 2); D is unchanged.

    The returned tensors depend on ``fake`` (and so on G) through every step: a loss computed with them
    (``functional_call(D, params, x)``) sends G the gradient of the unrolled game, second-order terms included.
    """
    params = {name: p.detach().requires_grad_(True) for name, p in discriminator.named_parameters()}
    both = torch.cat([real, fake])  # one pass for real and fake rows (D treats every row on its own)
    for _ in range(k):
        logits = functional_call(discriminator, params, (both,))
        loss = d_loss(logits[: len(real)], logits[len(real) :])
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        params = {name: p - lr * g for (name, p), g in zip(params.items(), grads)}
    return params


def pack(x: Tensor, m: int) -> Tensor:
    """Group consecutive samples m at a time: (N, d) -> (N / m, m * d); row i is [x[m i], ..., x[m i + m - 1]]."""
    validate.tensor(x, "x")
    validate.positive_int(m, "m")
    if x.dim() != 2:
        raise ValueError(f"x must have shape (N, d), got {tuple(x.shape)}")
    if x.shape[0] % m:
        raise ValueError(f"the batch size {x.shape[0]} is not a multiple of the packing degree m = {m}")
    return x.reshape(x.shape[0] // m, m * x.shape[1])


class MinibatchStd(nn.Module):
    """Append one feature to every row of h (N, F) -> (N, F + 1): the batch's standard deviation, averaged over F.

    A collapsed generator's batch has a small spread; a real batch does not — D can now see the difference.
    """

    def forward(self, h: Tensor) -> Tensor:
        validate.tensor(h, "h")
        if h.dim() != 2 or h.shape[0] < 2:
            raise ValueError(f"h must have shape (N, F) with N >= 2 (a batch), got {tuple(h.shape)}")
        std = (h.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        return torch.cat([h, std.expand(h.shape[0], 1)], dim=1)


# <<< end of the code saved from notebooks/03_mode_collapse.ipynb <<<


def packed_step(
    generator: nn.Module,
    discriminator: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z_dim: int,
    g_loss: Callable[[Tensor], Tensor] = losses.generator_loss_nonsaturating,
    d_loss: Callable[[Tensor, Tensor], Tensor] = losses.discriminator_loss,
    m: int = 2,
) -> tuple[Tensor, Tensor]:
    """``gan_step`` where D judges packs of m samples (N / m, 2 m): a real pack or a fake pack, never mixed."""
    # PacGAN changes only what D sees: every batch, real or generated, reaches it packed.
    return train.gan_step(generator, lambda x: discriminator(pack(x, m)), opt_g, opt_d, real, z_dim, g_loss, d_loss)


# --------------------------------------------------------------------------- unrolled GAN


def unrolled_step(
    generator: nn.Module,
    discriminator: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z_dim: int,
    g_loss: Callable[[Tensor], Tensor] = losses.generator_loss_nonsaturating,
    d_loss: Callable[[Tensor, Tensor], Tensor] = losses.discriminator_loss,
    k: int = 5,
    unroll_lr: float = 1e-3,
) -> tuple[Tensor, Tensor]:
    """One D step as usual, then one G step on the loss against D unrolled k steps further (Metz et al., 2017)."""
    fake = generator(torch.randn(real.shape[0], z_dim, device=real.device))
    loss_d = d_loss(discriminator(real), discriminator(fake.detach()))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    # G plays against the D it would face k steps from now: a mode G crowds into gets punished before G gets there.
    ahead = unroll(discriminator, real, fake, k, unroll_lr, d_loss)
    loss_g = g_loss(functional_call(discriminator, ahead, (fake,)))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return loss_d.detach(), loss_g.detach()


# --------------------------------------------------------------------------- WGAN-GP
def wgan_gp_step(
    generator: nn.Module,
    critic: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z_dim: int,
    g_loss: Callable[[Tensor], Tensor] = losses.wasserstein_generator_loss,
    d_loss: Callable[[Tensor, Tensor], Tensor] = losses.wasserstein_critic_loss,
    n_critic: int = 5,
    gp_weight: float = WGAN_GP_WEIGHT,
) -> tuple[Tensor, Tensor]:
    """n_critic critic steps with gradient penalty weight lambda, then one G step.

    ``real`` (n_critic * B, 2) holds one slice of B real samples for each critic step.
    """
    if real.shape[0] % n_critic:
        raise ValueError(
            f"the batch of {real.shape[0]} real samples must split into n_critic = {n_critic} equal slices"
        )
    for chunk in real.chunk(n_critic):
        fake = generator(torch.randn(chunk.shape[0], z_dim, device=real.device)).detach()
        loss_d = d_loss(critic(chunk), critic(fake)) + gp_weight * losses.gradient_penalty(critic, chunk, fake)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
    loss_g = g_loss(critic(generator(torch.randn(chunk.shape[0], z_dim, device=real.device))))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return loss_d.detach(), loss_g.detach()


# --------------------------------------------------------------------------- minibatch standard deviation


def minibatch_std_discriminator(in_dim: int = 2, hidden: int = 128, depth: int = 3) -> nn.Sequential:
    """``models.mlp_discriminator`` with a :class:`MinibatchStd` layer before its output: (N, in_dim) -> (N, 1)."""
    body = list(models.mlp_discriminator(in_dim, hidden, depth))[:-1]  # drop the output layer
    return nn.Sequential(*body, MinibatchStd(), nn.Linear(hidden + 1, 1))


# --------------------------------------------------------------------------- decision surfaces
class PackedCopies(nn.Module):
    """View a PacGAN discriminator as a function of one point: x (N, 2) -> D([x, x, ..., x]) (N, 1), m copies."""

    def __init__(self, discriminator: nn.Module, m: int) -> None:
        super().__init__()
        self.discriminator, self.m = discriminator, m

    def forward(self, x: Tensor) -> Tensor:
        return self.discriminator(x.repeat(1, self.m))


class CentredCritic(nn.Module):
    """View a WGAN critic as logits: f(x) minus its mean over the batch (the plotted window), for x (N, 2) -> (N, 1).

    A critic's score has no fixed zero (adding a constant changes nothing), so sigmoid(f - mean f) shows where the
    critic rates points above (blue) or below (red) its average over the window — not a probability.
    """

    def __init__(self, critic: nn.Module) -> None:
        super().__init__()
        self.critic = critic

    def forward(self, x: Tensor) -> Tensor:
        scores = self.critic(x)
        return scores - scores.mean()


def surface_view(method: str, discriminator: nn.Module, m: int = 2) -> nn.Module:
    """The module whose sigmoid ``Snapshots2D`` draws as the decision surface of ``method``'s discriminator."""
    check_method(method)
    if method == "PacGAN":
        return PackedCopies(discriminator, m)
    if method == "WGAN-GP":
        return CentredCritic(discriminator)
    return discriminator


# --------------------------------------------------------------------------- plotting window
def plot_extent(mixture: data.Mixture) -> tuple[float, float, float, float]:
    """The window over which runs record D's surface: the modes plus a margin of 0.3 + 10% of their reach.

    ``utils.course.widgets.ModeCollapseExplorer`` draws the surfaces over this same window.
    """
    return mixture.extent(margin=0.3 + 0.1 * float(mixture.modes.abs().max()))


# --------------------------------------------------------------------------- one table for all methods
def check_method(method: object) -> str:
    """Raise a clear error unless ``method`` is one of :data:`METHODS`."""
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, got {type(method).__name__}")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {list(METHODS)}")
    return method


def make(
    method: str,
    mixture_dim: int = 2,
    z_dim: int = 2,
    hidden: int = 128,
    depth: int = 3,
    steps: int | None = None,
    lr: float | None = None,
    batch_size: int = 128,
    m: int = 2,
    k: int = 5,
    unroll_lr: float = 1e-3,
    n_critic: int = 5,
    gp_weight: float = WGAN_GP_WEIGHT,
    anneal_start: float = 0.5,
) -> tuple[nn.Module, nn.Module, StepFn, dict]:
    """Build ``method``: returns ``(G, D, step_fn, train_kwargs)`` for ``utils.train.train_gan``.

    G maps noise (N, z_dim) to samples (N, mixture_dim); D maps samples to logits (N, 1) (a critic's scores for
    WGAN-GP; packs (N / m, m * mixture_dim) for PacGAN). ``train_kwargs`` holds the method's learning rate
    (:data:`LEARNING_RATES`, or ``lr``), Adam's betas, the batch size and the losses. With ``steps`` (pass the same
    number to ``train_gan``), ``step_fn`` anneals both learning rates to 0 over the second half of training —
    for every method but ``plain``, which keeps its constant, too large learning rate.
    """
    check_method(method)
    for value, name in (
        (mixture_dim, "mixture_dim"),
        (z_dim, "z_dim"),
        (hidden, "hidden"),
        (depth, "depth"),
        (m, "m"),
        (k, "k"),
        (n_critic, "n_critic"),
        (batch_size, "batch_size"),
    ):
        validate.positive_int(value, name)
    G = models.mlp_generator(z_dim, mixture_dim, hidden, depth)
    D = models.mlp_discriminator(mixture_dim, hidden, depth)
    kwargs: dict = dict(
        lr=lr or LEARNING_RATES[method],
        betas=(0.5, 0.999),
        batch_size=batch_size,
        g_loss=losses.generator_loss_nonsaturating,
        d_loss=losses.discriminator_loss,
    )
    step: StepFn = train.gan_step
    if method == "unrolled":
        step = partial(unrolled_step, k=k, unroll_lr=unroll_lr)
    elif method == "PacGAN":
        if batch_size % m:
            raise ValueError(f"batch_size {batch_size} must be a multiple of the packing degree m = {m}")
        D = models.mlp_discriminator(m * mixture_dim, hidden, depth)
        step = partial(packed_step, m=m)
    elif method == "WGAN-GP":
        step = partial(wgan_gp_step, n_critic=n_critic, gp_weight=gp_weight)
        # train_gan draws n_critic batches at once, one for each critic step.
        kwargs.update(
            betas=WGAN_BETAS,
            batch_size=n_critic * batch_size,
            g_loss=losses.wasserstein_generator_loss,
            d_loss=losses.wasserstein_critic_loss,
        )
    elif method == "minibatch std":
        D = minibatch_std_discriminator(mixture_dim, hidden, depth)
    if steps is not None and method != "plain":
        step = anneal(step, steps, anneal_start)
    return G, D, step, kwargs


# --------------------------------------------------------------------------- training several methods
#: Training steps of each method in learner mode, per data set, chosen so that every method gets a similar
#: wall-clock budget on a laptop CPU — about 55 s on the ring and twice that on the grid (25 modes take longer
#: to sharpen): a WGAN-GP step is five critic steps, an unrolled step six passes through D.
STEPS: dict[str, dict[str, int]] = {
    "ring": {
        "plain": 16000,
        "baseline": 16000,
        "unrolled": 2000,
        "PacGAN": 18000,
        "WGAN-GP": 3200,
        "minibatch std": 12000,
    },
    "grid": {
        "plain": 32000,
        "baseline": 32000,
        "unrolled": 4000,
        "PacGAN": 36000,
        "WGAN-GP": 6400,
        "minibatch std": 24000,
    },
}
#: Training steps in quick mode (CI), the same on both data sets: enough to see the samples move, no more.
QUICK_STEPS: dict[str, int] = {
    "plain": 400,
    "baseline": 400,
    "unrolled": 50,
    "PacGAN": 400,
    "WGAN-GP": 80,
    "minibatch std": 300,
}


def default_steps(method: str, dataset: str = "ring") -> int:
    """The number of training steps of ``method`` on ``dataset`` in the current mode (learner or quick mode)."""
    check_method(method)
    if dataset not in STEPS:
        raise ValueError(f"unknown dataset {dataset!r}; choose from {list(STEPS)}")
    return settings.pick(learner=STEPS[dataset][method], quick=QUICK_STEPS[method])


def train_runs(
    methods: list[str] | tuple[str, ...] = tuple(METHODS),
    datasets: list[str] | tuple[str, ...] = ("ring", "grid"),
    steps: int | dict[str, int] | None = None,
    seed: int = 0,
    frames: int = 20,
    n_samples: int = 2500,
    resolution: int = 60,
    threads: int = 1,
    **make_kwargs,
) -> tuple[dict[tuple[str, str], list[dict]], dict[tuple[str, str], train.History]]:
    """Train each method on each dataset from the same seed; return the ``Snapshots2D`` frames and the histories.

    Both dicts are keyed by ``(dataset, method)``. A run records ``frames + 1`` frames (step 0 included): G's samples
    (n_samples, 2) on fixed noise and D's decision surface (resolution, resolution), drawn by :func:`surface_view`.
    ``steps`` is one number for all methods, a dict per method, or None for :func:`default_steps`. The networks are
    too small to gain from parallel threads, so each run uses ``threads`` (1) CPU threads; other keyword arguments
    go to :func:`make`.
    """
    for dataset in datasets:
        if dataset not in MIXTURES:
            raise ValueError(f"unknown dataset {dataset!r}; choose from {list(MIXTURES)}")
    for method in methods:
        check_method(method)
    runs: dict[tuple[str, str], list[dict]] = {}
    histories: dict[tuple[str, str], train.History] = {}
    for dataset in datasets:
        mix = MIXTURES[dataset]()
        for method in methods:
            n = steps if isinstance(steps, int) else (steps or {}).get(method, default_steps(method, dataset))
            gen = settings.seed_everything(seed, threads=threads)
            G, D, step_fn, kwargs = make(method, mixture_dim=2, steps=n, **make_kwargs)
            z = torch.randn(n_samples, 2, generator=torch.Generator().manual_seed(seed + 1))
            snapshots = train.Snapshots2D(z, plot_extent(mix), resolution)
            histories[dataset, method] = train.train_gan(
                G,
                D,
                mix.sampler(gen),
                n,
                2,
                step_fn=step_fn,
                desc=f"{method} on the {dataset}",
                callback=lambda s, g, d, m=method, snaps=snapshots: snaps(s, g, surface_view(m, d)),
                callback_every=max(1, n // frames),
                **kwargs,
            )
            runs[dataset, method] = snapshots.frames
    return runs, histories


def run_metrics(frames: list[dict], mixture: data.Mixture) -> dict[str, float]:
    """Scores of a run's last frame: modes captured, % high-quality samples and the mode-histogram KL (nats)."""
    samples = frames[-1]["samples"]
    report = metrics.mode_metrics(samples, mixture.modes, mixture.std)
    return {
        "modes": report.modes_captured,
        "high_quality": 100 * report.high_quality,
        "kl": metrics.mode_histogram_kl(samples, mixture.modes, mixture.std),
    }
