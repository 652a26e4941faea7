"""Who is in a face: a small face recogniser trained on the bundled faces, and face de-identification against it.

Faces are (N, 1, H, W) in [-1, 1] (``utils.data.face_images``); person ``i`` is the i-th face. A "new photo" of a
person is a random augmentation of their face (:func:`augment_faces`): flipped, shifted, lit differently, noisy.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import settings, train, validate


def _faces(x: Tensor, name: str = "faces") -> None:
    validate.tensor(x, name)
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"{name} must be grey images (N, 1, H, W), got {tuple(x.shape)}")


def augment_faces(x: Tensor, generator: torch.Generator | None = None, shift: int = 2, noise: float = 0.05) -> Tensor:
    """New "photos" of faces x (N, 1, H, W): random flip, shift by up to ``shift`` pixels, contrast and brightness,
    pixel noise -> (N, 1, H, W) in [-1, 1]."""
    _faces(x)
    n, dev = x.shape[0], x.device

    def rand(*shape: int) -> Tensor:
        return torch.rand(*shape, generator=generator).to(dev)

    flip = rand(n, 1, 1, 1) < 0.5
    out = torch.where(flip, x.flip(-1), x)
    if shift > 0:
        padded = F.pad(out, (shift,) * 4, mode="replicate")
        dy, dx = (rand(2, n) * (2 * shift + 1)).long().clamp(max=2 * shift).tolist()
        h, w = x.shape[-2:]
        out = torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])
    contrast = 0.8 + 0.4 * rand(n, 1, 1, 1)
    brightness = 0.2 * (rand(n, 1, 1, 1) - 0.5)
    out = out * contrast + brightness + noise * torch.randn(out.shape, generator=generator).to(dev)
    return out.clamp(-1, 1)


class FaceRecogniser(nn.Module):
    """Faces (N, 1, H, W) -> identity logits (N, n_people); :meth:`embed` gives unit-length face codes (N, dim).

    Three conv blocks (3x3 conv, batch norm, ReLU, 2x2 max pool), global average pooling and a linear layer give
    the code; the logits are cosine similarities to one learned unit vector per person, times ``scale`` (a cosine
    softmax), so people are told apart by the angle between codes, the way face verification compares them.
    """

    def __init__(self, n_people: int = 100, dim: int = 64, width: int = 16, scale: float = 16.0) -> None:
        super().__init__()
        validate.positive_int(n_people, "n_people")
        layers: list[nn.Module] = []
        c_in = 1
        for c_out in (width, 2 * width, 4 * width):
            layers += [
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            c_in = c_out
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, dim))
        self.people = nn.Parameter(torch.randn(n_people, dim))
        self.scale = scale

    def embed(self, x: Tensor) -> Tensor:
        """Unit-length face codes (N, dim) for faces (N, 1, H, W)."""
        _faces(x)
        return F.normalize(self.features(x), dim=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.scale * self.embed(x) @ F.normalize(self.people, dim=1).T


def train_recogniser(
    net: FaceRecogniser,
    faces: Tensor,
    steps: int,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
    log_every: int = 25,
    device: torch.device | None = None,
    desc: str = "recogniser",
) -> train.History:
    """Teach ``net`` that face i (of faces (n_people, 1, H, W)) is person i, from fresh augmented photos each step
    (Adam, cross-entropy); leaves it in eval mode and returns the logged ``loss`` and training ``accuracy`` as a
    ``train.History``."""
    _faces(faces)
    validate.positive_int(steps, "steps")
    if len(faces) != net.people.shape[0]:
        raise ValueError(f"the recogniser knows {net.people.shape[0]} people but got {len(faces)} faces")
    dev = device or settings.device()
    gen = torch.Generator().manual_seed(seed)
    net.to(dev).train()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)

    def one_step(step: int) -> dict[str, Tensor]:
        who = torch.randint(len(faces), (batch_size,), generator=gen)
        logits = net(augment_faces(faces[who], gen).to(dev))
        target = who.to(dev)
        loss = F.cross_entropy(logits, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": loss, "accuracy": (logits.argmax(1) == target).float().mean()}

    history = train.fit(one_step, steps, log_every, desc, device=dev)
    net.eval()
    return history


@torch.no_grad()
def face_codes(net: FaceRecogniser, faces: Tensor) -> Tensor:
    """The recogniser's unit face codes (N, dim) for faces (N, 1, H, W), in eval mode, on faces' device."""
    was = net.training
    net.eval()
    dev = next(net.parameters()).device
    codes = net.embed(faces.to(dev)).to(faces.device)
    net.train(was)
    return codes


def match_rate(net: FaceRecogniser, probes: Tensor, people: Tensor, gallery: Tensor) -> float:
    """The fraction of probe faces (N, 1, H, W) of persons ``people`` (N,) whose nearest gallery face (by cosine
    similarity of codes; gallery (P, 1, H, W), one face per person) is their own person."""
    if len(people) != len(probes):
        raise ValueError(f"people must name one person per probe: {len(people)} vs {len(probes)} probes")
    nearest = (face_codes(net, probes) @ face_codes(net, gallery).T).argmax(1)
    return (nearest == people.to(nearest.device)).float().mean().item()


def photo_match_rate(
    net: FaceRecogniser, faces: Tensor, people: Tensor, gallery: Tensor, photos: int = 8, seed: int = 1
) -> float:
    """:func:`match_rate` over ``photos`` fresh augmented photos of each face (N, 1, H, W) of persons ``people``."""
    gen = torch.Generator().manual_seed(seed)
    probes = torch.cat([augment_faces(faces, gen) for _ in range(photos)])
    return match_rate(net, probes, people.repeat(photos), gallery)


def deidentify(
    net: FaceRecogniser, faces: Tensor, epsilon: float = 0.1, steps: int = 60, photos: int = 4, seed: int = 0
) -> Tensor:
    """Faces (N, 1, H, W) changed by at most ``epsilon`` per pixel so that the recogniser's code of every new photo
    of them points away from the original's -> (N, 1, H, W) in [-1, 1].

    Projected gradient descent on the cosine similarity, averaged over ``photos`` random augmentations per step
    (so the change survives a new photo, not just this one); step size epsilon / 10 on the gradient's sign.
    """
    _faces(faces)
    if not 0 < epsilon <= 2:
        raise ValueError(f"epsilon (the largest change per pixel, images in [-1, 1]) must lie in (0, 2], got {epsilon}")
    validate.positive_int(steps, "steps")
    gen = torch.Generator().manual_seed(seed)
    dev = next(net.parameters()).device
    was = net.training
    net.eval()
    x = faces.to(dev)
    with torch.no_grad():
        own = net.embed(x)
    delta = torch.zeros_like(x, requires_grad=True)
    for _ in settings.progress(range(steps), desc="de-identify", unit="step"):
        moved = (x + delta).clamp(-1, 1)
        views = torch.cat([augment_faces(moved, gen) for _ in range(photos)])
        similarity = (net.embed(views) * own.repeat(photos, 1)).sum(1).mean()
        (grad,) = torch.autograd.grad(similarity, delta)
        with torch.no_grad():
            delta -= epsilon / 10 * grad.sign()
            delta.clamp_(-epsilon, epsilon)
    net.train(was)
    return (x + delta.detach()).clamp(-1, 1).to(faces.device)


def pooled_psnr(a: Tensor, b: Tensor) -> float:
    """Peak signal-to-noise ratio in dB between image batches a and b (N, C, H, W) in [-1, 1] (peak-to-peak 2), of
    the squared error pooled over the whole batch (``utils.superres.psnr`` gives one value per image instead)."""
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    mse = (a - b).pow(2).mean().clamp_min(1e-12)
    return float(10 * torch.log10(4 / mse))
