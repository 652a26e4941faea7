"""Training: a plain, readable GAN loop with a progress bar, a loss history and callbacks for snapshots."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import Tensor, nn

from . import losses, settings, validate

Callback = Callable[[int, nn.Module, nn.Module], None]


class History(dict):
    """Training curves: ``history["d_loss"]`` (also ``history.d_loss``) holds that loss's mean over each logging
    window, logged at the steps in ``history["step"]``; ``history.seconds`` is the run's wall time."""

    def __init__(self, **curves: list[float]) -> None:
        super().__init__({"step": [], **curves})
        self.seconds = 0.0

    def __getattr__(self, name: str) -> list:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"this history logged no {name!r}; it has {sorted(self)}") from None


# >>> saved from notebooks/02_gan_from_scratch.ipynb (edit it there, then run `make save`) >>>
def gan_step(
    generator: nn.Module,
    discriminator: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z_dim: int,
    g_loss: Callable[[Tensor], Tensor] = losses.generator_loss_nonsaturating,
    d_loss: Callable[[Tensor, Tensor], Tensor] = losses.discriminator_loss,
) -> tuple[Tensor, Tensor]:
    """One round of the game on real samples (N, ...): discriminator step, then generator step; returns both losses."""
    z = torch.randn(real.shape[0], z_dim, device=real.device)
    fake = generator(z)
    # Discriminator: push D up on real samples, down on generated ones (detach: this step leaves G alone).
    loss_d = d_loss(discriminator(real), discriminator(fake.detach()))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    # Generator: make the updated D call its samples real.
    loss_g = g_loss(discriminator(fake))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return loss_d.detach(), loss_g.detach()


# <<< end of the code saved from notebooks/02_gan_from_scratch.ipynb <<<


def log_means(history: History, sums: dict[str, float | Tensor], step: int) -> None:
    """Append ``step`` and each running sum's mean since the last log to ``history``; reset the sums to 0."""
    n = step - (history.step[-1] if history.step else 0)
    history.step.append(step)
    for key in sums:
        history.setdefault(key, []).append(float(sums[key]) / n)
        sums[key] = 0.0


def report_time(desc: str, steps: int, start: float, device: torch.device) -> float:
    """Wall seconds since ``start`` (``time.perf_counter()``) after syncing the GPU; prints steps, device, ms/step."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    print(
        f"{desc}: {steps} steps in {seconds:.1f} s on {device.type} ({settings.where(device)}), "
        f"{1000 * seconds / steps:.1f} ms/step"
    )
    return seconds


def train_gan(
    generator: nn.Module,
    discriminator: nn.Module,
    sample_real: Callable[[int], Tensor],
    steps: int,
    z_dim: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.5, 0.999),
    g_loss: Callable[[Tensor], Tensor] = losses.generator_loss_nonsaturating,
    d_loss: Callable[[Tensor, Tensor], Tensor] = losses.discriminator_loss,
    log_every: int = 25,
    callback: Callback | None = None,
    callback_every: int = 250,
    device: torch.device | None = None,
    desc: str = "GAN",
    step_fn: Callable[..., tuple[Tensor, Tensor]] | None = None,
) -> History:
    """Train G and D by alternating one discriminator step and one generator step, ``steps`` times.

    ``sample_real(n)`` returns a batch of n real samples (n, ...), or a tuple such as (images, labels);
    G maps noise (n, z_dim) to samples of the same shape. ``step_fn`` (default :func:`gan_step`) plays one
    round, called as ``step_fn(G, D, opt_g, opt_d, batch, z_dim, g_loss, d_loss)``; other GAN variants pass
    their own. ``callback(step, G, D)`` runs before training and every ``callback_every`` steps (snapshots).
    """
    validate.positive_int(batch_size, "batch_size")
    dev = device or settings.device()
    generator.to(dev).train()
    discriminator.to(dev).train()
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=betas)

    def one_round(step: int) -> dict[str, Tensor]:
        batch = sample_real(batch_size)
        batch = tuple(t.to(dev) for t in batch) if isinstance(batch, (tuple, list)) else batch.to(dev)
        loss_d, loss_g = (step_fn or gan_step)(generator, discriminator, opt_g, opt_d, batch, z_dim, g_loss, d_loss)
        return {"d_loss": loss_d, "g_loss": loss_g}

    snapshot = None if callback is None else lambda step: callback(step, generator, discriminator)
    return fit(one_round, steps, log_every, desc, snapshot, callback_every, dev)


def fit(
    step: Callable[[int], dict[str, float | Tensor]],
    steps: int,
    log_every: int = 25,
    desc: str = "train",
    callback: Callable[[int], None] | None = None,
    callback_every: int = 250,
    device: torch.device | None = None,
) -> History:
    """The loop every lesson shares: run ``step(i)`` for i = 1..steps behind a progress bar, log the mean of each
    loss it returns every ``log_every`` steps, call ``callback(i)`` at 0 and every ``callback_every`` steps, and
    print the wall time. Losses may stay tensors on the GPU: they are read back only when logged."""
    validate.positive_int(steps, "steps")
    validate.positive_int(log_every, "log_every")
    history, sums = History(), {}
    if callback is not None:
        callback(0)
    start = time.perf_counter()
    bar = settings.progress(range(1, steps + 1), desc=desc, unit="step")
    for i in bar:
        for key, value in step(i).items():
            sums[key] = sums.get(key, 0.0) + (value.detach() if isinstance(value, Tensor) else value)
        if i % log_every == 0 or i == steps:
            log_means(history, sums, i)
            bar.set_postfix({key: f"{history[key][-1]:.3f}" for key in sums}, refresh=False)
        if callback is not None and (i % callback_every == 0 or i == steps):
            callback(i)
    history.seconds = report_time(desc, steps, start, device or settings.device())
    return history


def generate_fixed(generator: nn.Module, z: Tensor, labels: Tensor | None = None) -> Tensor:
    """G's output for fixed noise z (N, z_dim) (and labels (N,) for a conditional G), in evaluation mode, on the CPU.

    Evaluation mode makes each sample depend on its own z only (batch norm uses its running statistics);
    G is put back in the mode it was in.
    """
    was_training = generator.training
    generator.eval()
    with torch.no_grad():
        dev = next(generator.parameters()).device
        out = generator(z.to(dev)) if labels is None else generator(z.to(dev), labels.to(dev))
    generator.train(was_training)
    return out.cpu()


class Snapshots2D:
    """A ``train_gan`` callback that records, at each call, G's samples on fixed noise and D's decision surface.

    ``frames[i]`` is a dict with ``step``, ``samples`` (N, 2) and ``surface`` (R, R) of D(x) over ``extent``.
    """

    def __init__(self, z: Tensor, extent: tuple[float, float, float, float], resolution: int = 80) -> None:
        self.z, self.extent, self.resolution = z, extent, resolution
        self.frames: list[dict] = []

    def __call__(self, step: int, generator: nn.Module, discriminator: nn.Module) -> None:
        from .viz import decision_surface

        samples = generate_fixed(generator, self.z)
        surface = decision_surface(discriminator, self.extent, self.resolution)
        self.frames.append({"step": step, "samples": samples, "surface": surface})


# ---------------------------------------------------------------- images: the conditional step, snapshots, a classifier
# >>> saved from notebooks/04_dcgan_and_conditional_gan.ipynb (edit it there, then run `make save`) >>>
def cgan_step(
    generator: nn.Module,
    discriminator: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    batch: tuple[Tensor, Tensor],
    z_dim: int,
    g_loss: Callable[[Tensor], Tensor] = losses.generator_loss_nonsaturating,
    d_loss: Callable[[Tensor, Tensor], Tensor] = losses.discriminator_loss,
) -> tuple[Tensor, Tensor]:
    """One round of the conditional game on batch = (images (N, ...), labels (N,)): ``gan_step`` played by G(z, c)
    and D(x, c) with the batch's labels bound in, so the fakes are asked for the batch's own labels.
    Returns (loss_d, loss_g); a ``step_fn`` for ``train_gan``."""
    real, labels = batch
    # Bind the labels: to gan_step, G is z -> G(z, labels) and D is x -> D(x, labels); the game is unchanged.
    return gan_step(
        lambda z: generator(z, labels), lambda x: discriminator(x, labels), opt_g, opt_d, real, z_dim, g_loss, d_loss
    )


# <<< end of the code saved from notebooks/04_dcgan_and_conditional_gan.ipynb <<<


class ImageSnapshots:
    """A ``train_gan`` callback that records G's images for fixed noise z (N, z_dim) (and fixed labels (N,) for a
    conditional G(z, c)): ``frames[i]`` is a dict with ``step`` and ``images`` (N, C, H, W) in [-1, 1] on the CPU."""

    def __init__(self, z: Tensor, labels: Tensor | None = None) -> None:
        self.z, self.labels = z, labels
        self.frames: list[dict] = []

    def __call__(self, step: int, generator: nn.Module, discriminator: nn.Module) -> None:
        self.frames.append({"step": step, "images": generate_fixed(generator, self.z, self.labels)})


def train_classifier(
    model: nn.Module,
    dataset: torch.utils.data.TensorDataset,
    epochs: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    device: torch.device | None = None,
    desc: str = "classifier",
) -> list[float]:
    """Train a classifier on dataset = (images (N, ...), labels (N,)) with Adam and cross-entropy for ``epochs``
    passes in shuffled mini-batches (:func:`fit`, logging once per epoch); prints the wall time and returns the
    mean loss over the samples of each epoch."""
    validate.positive_int(epochs, "epochs")
    validate.positive_int(batch_size, "batch_size")
    images, labels = dataset.tensors[0], dataset.tensors[1]
    dev = device or settings.device()
    model.to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    per_epoch = -(-len(labels) // batch_size)
    epoch_losses: list[float] = []
    order, total = None, None

    def one_step(step: int) -> dict[str, Tensor]:
        nonlocal order, total
        k = (step - 1) % per_epoch  # the batch's place in its epoch
        if k == 0:
            order = torch.randperm(len(labels))
            total = torch.zeros((), device=dev)
        idx = order[k * batch_size : (k + 1) * batch_size]
        x, y = images[idx].to(dev), labels[idx].to(dev)
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += loss.detach() * len(idx)
        if k == per_epoch - 1:  # the last batch may be smaller: weigh each batch by its size
            epoch_losses.append(float(total) / len(labels))
        return {"loss": loss}

    fit(one_step, epochs * per_epoch, per_epoch, f"{desc} ({epochs} epochs)", device=dev)
    model.eval()
    return epoch_losses
