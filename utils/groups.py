"""Groups without labels for CycleGAN (notebook 07, section 10): each domain's images are clustered in features learned
by SimCLR, the clusters of both domains are grouped through the two generators' translations into groups of equal
size, and a loss asks each translation to stay in its input's group. Labels are only ever used to score."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.manifold import spectral_embedding
from torch import Tensor, nn

from . import cyclegan, settings, validate

CLUSTERS, GROUPS, NEIGHBOURS, TAU = 80, 10, 3, 0.1  # per domain; groups; links within a domain
BETA = {"a": 8.0, "b": 1.0}  # weight of the links within each domain, x the mean cross link: A's neighbours are
# more often the same digit than B's (82-84 % against 74 % of the links at step 1,800, seeds 5 and 0)
SIMCLR_STEPS, SIMCLR_BATCH, SIMCLR_TAU = 300, 256, 0.2


def distort(x: Tensor) -> Tensor:
    """Random turn (15 deg), scale (0.85-1.15), shear (0.3), shift (0.15), thicker or thinner strokes of digits in
    [-1, 1] (N, 1, H, W); returns (N, 1, H, W)."""
    n = len(x)
    ang = (torch.rand(n) * 2 - 1) * math.radians(15)
    scale = 1 / (0.85 + 0.3 * torch.rand(n))
    shear = (torch.rand(n) * 2 - 1) * 0.3
    tx, ty = [(torch.rand(n) * 2 - 1) * 0.15 for _ in range(2)]
    c, s = torch.cos(ang) * scale, torch.sin(ang) * scale
    theta = torch.stack([torch.stack([c, -s + shear * c, tx], 1), torch.stack([s, c + shear * s, ty], 1)], 1)
    grid = F.affine_grid(theta.to(x.device), list(x.shape), align_corners=False)
    y = F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1
    r = torch.rand(n, 1, 1, 1).to(x.device)
    thick, thin = F.max_pool2d(y, 3, 1, 1), -F.max_pool2d(-y, 3, 1, 1)
    return torch.where(r < 0.25, thick, torch.where(r < 0.4, thin, y))


def encoder() -> nn.Module:
    """A small CNN: one-channel images (N, 1, H, W) -> features (N, 128)."""
    def block(i: int, o: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU())
    return nn.Sequential(block(1, 32), block(32, 32), nn.MaxPool2d(2), block(32, 64), block(64, 64), nn.MaxPool2d(2),
                         block(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def features(enc: nn.Module, x: Tensor) -> Tensor:
    """Unit-length features (N, 128) of images x (N, 1, H, W), on x's device."""
    return F.normalize(enc(x), dim=1)


def simclr(x: Tensor, steps: int = SIMCLR_STEPS, batch_size: int = SIMCLR_BATCH, temperature: float = SIMCLR_TAU,
           desc: str = "SimCLR") -> tuple[nn.Module, Tensor]:
    """An encoder trained by SimCLR's contrastive loss (Chen et al., 2020) on images x (N, 1, H, W), on x's device:
    two :func:`distort` views of one image belong together. Returns it (frozen, eval) and x's features (N, 128)."""
    validate.positive_int(steps, "steps")
    enc, head = encoder().to(x.device), nn.Sequential(nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 64)).to(x.device)
    opt = torch.optim.Adam([*enc.parameters(), *head.parameters()], 1e-3)
    pairs = torch.cat([torch.arange(batch_size, 2 * batch_size), torch.arange(batch_size)]).to(x.device)
    for _ in settings.progress(range(steps), desc=desc, unit="step"):
        b = x[torch.randint(len(x), (batch_size,)).to(x.device)]
        z = F.normalize(head(enc(torch.cat([distort(b), distort(b)]))), dim=1)
        sim = z @ z.t() / temperature
        sim.fill_diagonal_(-1e9)  # an image is not its own partner
        loss = F.cross_entropy(sim, pairs)
        opt.zero_grad()
        loss.backward()
        opt.step()
    enc.eval().requires_grad_(False)
    with torch.no_grad():
        return enc, features(enc, x)


def balanced_kmeans(x: np.ndarray, weight: np.ndarray, k: int, seed: int, restarts: int = 10, iters: int = 50,
                    eps: float = 0.05) -> np.ndarray:
    """Rows x (n, d) of weights (n,) into k groups of equal weight: k-means whose soft assignments are Sinkhorn's
    transport plan to k equal bins (entropy eps x the mean squared norm); the cheapest of ``restarts``; (n,) ints."""
    if x.ndim != 2 or len(weight) != len(x) or not 0 < k <= len(x):
        raise ValueError(f"need rows x (n, d), weights (n,) and 0 < k <= n; got {x.shape}, {weight.shape}, k={k}")
    rng = np.random.default_rng(seed)
    a, b = weight / weight.sum(), np.full(k, 1.0 / k)
    temp = eps * (x ** 2).sum(1).mean()
    best_cost, best = np.inf, np.zeros(len(x), dtype=int)
    for _ in range(restarts):
        centres = x[rng.choice(len(x), k, replace=False, p=a)]
        for _ in range(iters):
            dist = ((x[:, None, :] - centres[None]) ** 2).sum(-1)
            kernel = np.exp(-(dist - dist.min(1, keepdims=True)) / temp)
            u, v = np.ones(len(x)), np.ones(k)
            for _ in range(200):  # Sinkhorn: rows sum to a, columns to b
                u = a / (kernel @ v + 1e-30)
                v = b / (kernel.T @ u + 1e-30)
            plan = u[:, None] * kernel * v[None]
            centres = (plan.T @ x) / (plan.sum(0)[:, None] + 1e-30)
        cost = (plan * dist).sum()
        if cost < best_cost:
            best_cost, best = cost, plan.argmax(1)
    return best


def knn_graph(centres: Tensor, k: int = NEIGHBOURS) -> Tensor:
    """A symmetric 0/1 adjacency (C, C) linking each of C centres (C, D) to its k most similar (cosine)."""
    if not 0 < k < len(centres):
        raise ValueError(f"need more centres than neighbours: {len(centres)} centres, k={k}")
    c = F.normalize(centres, dim=1)
    sim = c @ c.t()
    sim.fill_diagonal_(-9)
    adj = torch.zeros_like(sim).scatter_(1, sim.topk(k, dim=1).indices, 1.0)
    return ((adj + adj.t()) > 0).float()


def cluster_graph(cross: Tensor, centres_a: Tensor, centres_b: Tensor) -> Tensor:
    """The (2K, 2K) weights over A's then B's K clusters: ``cross`` (K, K) votes between the domains, and within
    each domain its centres (K, D) linked to their NEIGHBOURS nearest, weight BETA[domain] x the mean nonzero vote."""
    k = len(cross)
    if cross.shape != (k, k) or len(centres_a) != k or len(centres_b) != k:
        raise ValueError(f"cross must be (K, K) and both centres (K, D), got {tuple(cross.shape)}, "
                         f"{tuple(centres_a.shape)}, {tuple(centres_b.shape)}")
    w = torch.zeros(2 * k, 2 * k)
    w[:k, k:], w[k:, :k] = cross, cross.t()
    mean_w = cross.sum() / (cross > 0).sum().clamp(min=1)
    w[:k, :k] = BETA["a"] * mean_w * knn_graph(centres_a)
    w[k:, k:] = BETA["b"] * mean_w * knn_graph(centres_b)
    return w


class Groups:
    """Each domain's images (N, 1, H, W) in ``clusters`` k-means clusters of their SimCLR features (trained on
    ``device``), and, after :meth:`regroup`, the clusters of both domains in ``groups`` groups with each group's mean
    feature per domain."""

    def __init__(self, images_a: Tensor, images_b: Tensor, seed: int = 0, simclr_steps: int = SIMCLR_STEPS,
                 clusters: int = CLUSTERS, groups: int = GROUPS, balanced: bool = True,
                 device: torch.device | None = None) -> None:
        for name, x in (("images_a", images_a), ("images_b", images_b)):
            if x.dim() != 4 or x.shape[1] != 1 or len(x) < clusters:
                raise ValueError(f"{name} must be one-channel images (N, 1, H, W) with N >= clusters={clusters}, "
                                 f"got {tuple(x.shape)}")
        self.images = {"a": images_a, "b": images_b}
        self.k, self.n_groups, self.seed, self.balanced = clusters, groups, seed, balanced
        self.enc, self.feat, self.label, self.centre = {}, {}, {}, {}
        dev = device or settings.device()
        for d in ("a", "b"):
            self.enc[d], self.feat[d] = simclr(self.images[d].to(dev), simclr_steps, desc=f"SimCLR ({d.upper()})")
        for d in ("a", "b"):
            km = KMeans(clusters, n_init=10, random_state=seed).fit(self.feat[d].cpu().numpy())
            self.label[d] = torch.tensor(km.labels_).long()
            self.centre[d] = torch.tensor(km.cluster_centers_, dtype=torch.float32).to(self.feat[d].device)
        self.group: dict[str, Tensor] = {}
        self.proto: dict[str, Tensor] = {}

    def cluster(self, d: str, x: Tensor) -> Tensor:
        """The nearest of domain d's cluster centres for each image x (N, 1, H, W); (N,) ints on x's device."""
        return torch.cdist(features(self.enc[d], x), self.centre[d]).argmin(1)

    def regroup(self, g_ab: nn.Module, g_ba: nn.Module) -> None:
        """Group the 2K clusters through a graph: cross links count G's and F's translations of the images (cluster of
        the input, cluster of the output), links within a domain join each centre to its NEIGHBOURS nearest
        (weight BETA[domain] x the mean cross link). Its spectral embedding is split into equal groups by
        :func:`balanced_kmeans` (``balanced=False``: sklearn's spectral clustering, groups of any size). Recomputes
        each group's mean feature in both domains."""
        k, dev = self.k, self.centre["a"].device
        with torch.no_grad():
            to_b = self.cluster("b", cyclegan.translate(g_ab, self.images["a"]).to(dev)).cpu()
            to_a = self.cluster("a", cyclegan.translate(g_ba, self.images["b"]).to(dev)).cpu()
        cross = torch.zeros(k, k)
        cross.index_put_((self.label["a"], to_b), torch.ones(len(to_b)), accumulate=True)
        cross.index_put_((to_a, self.label["b"]), torch.ones(len(to_a)), accumulate=True)
        w = cluster_graph(cross, self.centre["a"].cpu(), self.centre["b"].cpu())
        if self.balanced:  # the digits' classes are about equally frequent
            emb = spectral_embedding(w.numpy() + 1e-3, n_components=self.n_groups, drop_first=False,
                                     random_state=self.seed)
            sizes = torch.cat([torch.bincount(self.label[d], minlength=k) for d in ("a", "b")]).double().numpy()
            grp = balanced_kmeans(emb / np.linalg.norm(emb, axis=1, keepdims=True), sizes, self.n_groups, self.seed)
        else:
            grp = SpectralClustering(self.n_groups, affinity="precomputed",
                                     random_state=self.seed).fit_predict(w.numpy() + 1e-3)
        grp = torch.tensor(grp).long()
        self.group = {"a": grp[:k], "b": grp[k:]}
        for d in ("a", "b"):
            of = self.group[d][self.label[d]].to(dev)
            width = self.feat[d].shape[1]
            self.proto[d] = F.normalize(torch.stack([self.feat[d][of == g].mean(0) if (of == g).any()
                                                     else torch.zeros(width, device=dev)
                                                     for g in range(self.n_groups)]), dim=1)

    def loss(self, real: Tensor, fake: Tensor, src: str, dst: str) -> Tensor:
        """Cross-entropy (temperature TAU) asking the translations ``fake`` (N, 1, H, W) in domain dst of ``real``
        (N, 1, H, W) in domain src to lie nearest the mean dst feature of the real images' groups; a scalar."""
        if not self.group:
            raise RuntimeError("no groups yet: call regroup(g_ab, g_ba) first")
        with torch.no_grad():
            target = self.group[src].to(real.device)[self.cluster(src, real)]
        return F.cross_entropy(features(self.enc[dst], fake) @ self.proto[dst].t() / TAU, target)

    def accuracy(self, labels_a: Tensor, labels_b: Tensor) -> float:
        """For scoring only: the share of domain A's images (labels (N_a,)) whose group is their class, a group's
        class being the most frequent among its domain-B images (labels (N_b,))."""
        of_b = self.group["b"][self.label["b"]]
        cls = torch.tensor([torch.bincount(labels_b[of_b == g]).argmax().item() if (of_b == g).any() else -1
                            for g in range(self.n_groups)])
        return (cls[self.group["a"][self.label["a"]]] == labels_a).float().mean().item()


def train_grouped_cyclegan(nets: cyclegan.CycleGAN, groups: Groups, steps: int, batch_size: int = 8,
                           lambda_cycle: float = 2.0, lambda_identity: float = 0.5, cycle_noise: float = 0.3,
                           weight: float = 1.0, seed: int = 0, labels: tuple[Tensor, Tensor] | None = None,
                           log_every: int = 50, device: torch.device | None = None,
                           desc: str = "grouped CycleGAN") -> tuple[cyclegan.CycleGANHistory, list[tuple[int, float]]]:
    """:func:`utils.cyclegan.train_cyclegan` on ``groups``' images, with ``weight`` x the group loss in both
    directions added to the generators' loss once the groups exist: they are formed at 2/3 and again at 5/6 of the
    steps. ``labels`` (A's, B's), if given, only score each grouping. Returns the history and (step, share of A's
    images in their class's group) per grouping (NaN without labels)."""
    if steps < 6:
        raise ValueError(f"steps must be at least 6 (groups form at 2/3 and 5/6 of them), got {steps}")
    dev = device or settings.device()
    for d in ("a", "b"):
        groups.enc[d].to(dev)
        groups.feat[d], groups.centre[d] = groups.feat[d].to(dev), groups.centre[d].to(dev)
    form_at = (2 * steps // 3, 5 * steps // 6)
    log: list[tuple[int, float]] = []

    def group_loss(real_a: Tensor, fake_b: Tensor, real_b: Tensor, fake_a: Tensor) -> Tensor:
        if not groups.group:
            return torch.zeros((), device=real_a.device)
        return weight * (groups.loss(real_a, fake_b, "a", "b") + groups.loss(real_b, fake_a, "b", "a"))

    def regroup(step: int, nets: cyclegan.CycleGAN) -> None:
        if step in form_at:
            groups.regroup(nets.g_ab, nets.g_ba)  # translate() leaves the nets in training mode
            acc = groups.accuracy(*labels) if labels is not None else float("nan")
            log.append((step, acc))
            print(f"step {step}: groups formed" + (f"; {acc:.1%} of A's images are in their class's group "
                                                   "(labels used to score only)" if labels is not None else ""))

    history = cyclegan.train_cyclegan(nets, groups.images["a"], groups.images["b"], steps, batch_size,
                                      lambda_cycle=lambda_cycle, lambda_identity=lambda_identity,
                                      cycle_noise=cycle_noise, extra_loss=group_loss, log_every=log_every,
                                      callback=regroup, callback_every=1, seed=seed, device=dev, desc=desc)
    return history, log
