#!/usr/bin/env python3
"""Notebook 07's "grouped" lever: a CycleGAN plus a loss that keeps each digit in its own group, found without labels.

No labels are used to train; they only score. In three parts, all inside the timed budget:

1. Features per domain, by SimCLR (Chen et al., 2020): a small CNN learns that two random distortions of one digit
   (turned, scaled, sheared, shifted, strokes thickened or thinned) belong together. 80 k-means clusters per domain.
2. A CycleGAN as in scripts/train_cyclegan.py with the shipped bottleneck (two downsamplings) but 4 residual blocks,
   noise 0.3 on G's output before F, lambda = 2, identity 0.5 lambda, batch 8, 2,700 steps (``--down 1 --steps
   3000``: the lambda = 2 recipe). At 2/3 and 5/6 of the steps the 160 clusters are grouped into 10: a graph links
   each handwritten cluster to the typeset clusters its digits are translated into by G (and back through F), and
   each cluster to its 3 nearest clusters in its own domain (weight 2 x the mean cross link); the graph's spectral
   embedding is split into 10 groups of equal size (the digits' classes are about equally frequent) by k-means
   whose assignments are a Sinkhorn transport plan (``--unbalanced``: sklearn's spectral clustering, groups of any
   size, as in the first runs).
3. From the first grouping on, each generator's loss also has a cross-entropy (weight 1): G(a), in the typeset
   features, must lie nearest the mean feature of a's group among the typeset digits (temperature 0.1); F(b) likewise.

Scores the two generators as scripts/train_cyclegan.py does (held-out digits, the shipped frozen classifiers) and
prints the time of all three parts. Uses the shipped classifiers in notebooks/checkpoints/:

    python scripts/cyclegan_groups.py --seed 0 --threads 2      # about 9 minutes on a 2-core laptop
    python scripts/cyclegan_groups.py --seed 0 --threads 2 --lam 0   # the same without the cycle loss
"""
from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.manifold import spectral_embedding
from torch import Tensor, nn

import train_cyclegan as T
import utils
from utils import cyclegan, train
from utils.cyclegan import cycle_loss, identity_loss, lsgan_discriminator_loss, lsgan_generator_loss

K, GROUPS, NEIGHBOURS, BETA, TAU, MU = 80, 10, 3, 2.0, 0.1, 1.0
SIMCLR_STEPS, SIMCLR_BATCH, SIMCLR_TAU = 300, 256, 0.2
DOWN, BLOCKS, STEPS, LAMBDA = 2, 4, 2700, 2.0  # groups formed at 2/3 and 5/6 of the steps (1,800 and 2,250)


def distort(x: Tensor) -> Tensor:
    """Random turn (15 deg), scale (0.85-1.15), shear (0.3), shift (0.15), thicker or thinner strokes; (N,1,H,W)."""
    n = len(x)
    ang = (torch.rand(n) * 2 - 1) * math.radians(15)
    scale = 1 / (0.85 + 0.3 * torch.rand(n))
    shear = (torch.rand(n) * 2 - 1) * 0.3
    tx, ty = [(torch.rand(n) * 2 - 1) * 0.15 for _ in range(2)]
    c, s = torch.cos(ang) * scale, torch.sin(ang) * scale
    theta = torch.stack([torch.stack([c, -s + shear * c, tx], 1), torch.stack([s, c + shear * s, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    y = F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1
    r = torch.rand(n, 1, 1, 1)
    thick, thin = F.max_pool2d(y, 3, 1, 1), -F.max_pool2d(-y, 3, 1, 1)
    return torch.where(r < 0.25, thick, torch.where(r < 0.4, thin, y))


def encoder() -> nn.Module:
    """Digits (N, 1, H, W) -> features (N, 128)."""
    def block(i: int, o: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU())
    return nn.Sequential(block(1, 32), block(32, 32), nn.MaxPool2d(2), block(32, 64), block(64, 64), nn.MaxPool2d(2),
                         block(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def simclr(x: Tensor, steps: int = SIMCLR_STEPS) -> tuple[nn.Module, Tensor]:
    """An encoder trained by SimCLR's contrastive loss on images x (N, 1, H, W); returns it (frozen, eval) and the
    unit-length features (N, 128) of x."""
    enc, head = encoder(), nn.Sequential(nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 64))
    opt = torch.optim.Adam([*enc.parameters(), *head.parameters()], 1e-3)
    bs = SIMCLR_BATCH
    for _ in utils.settings.progress(range(steps), desc="SimCLR", unit="step"):
        b = x[torch.randint(len(x), (bs,))]
        z = F.normalize(head(enc(torch.cat([distort(b), distort(b)]))), dim=1)
        sim = z @ z.t() / SIMCLR_TAU
        sim.fill_diagonal_(-1e9)
        loss = F.cross_entropy(sim, torch.cat([torch.arange(bs, 2 * bs), torch.arange(bs)]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    enc.eval().requires_grad_(False)
    with torch.no_grad():
        return enc, F.normalize(enc(x), dim=1)


def features(enc: nn.Module, x: Tensor) -> Tensor:
    """Unit-length features (N, 128) of images (N, 1, H, W)."""
    return F.normalize(enc(x), dim=1)


def balanced_kmeans(x: np.ndarray, weight: np.ndarray, k: int, seed: int, restarts: int = 10, iters: int = 50,
                    eps: float = 0.05) -> np.ndarray:
    """Rows x (n, d) of weights (n,) into k groups of equal weight: k-means whose soft assignments are Sinkhorn's
    transport plan to k equal bins (entropy eps x the mean squared norm); the cheapest of ``restarts``; (n,) ints."""
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
    """A symmetric 0/1 adjacency (C, C) linking each of C centres to its k most similar (cosine)."""
    c = F.normalize(centres, dim=1)
    sim = c @ c.t()
    sim.fill_diagonal_(-9)
    adj = torch.zeros_like(sim).scatter_(1, sim.topk(k, dim=1).indices, 1.0)
    return ((adj + adj.t()) > 0).float()


class Groups:
    """Clusters per domain and their grouping into GROUPS groups through the two generators."""

    def __init__(self, enc_a: nn.Module, feat_a: Tensor, enc_b: nn.Module, feat_b: Tensor, seed: int,
                 balanced: bool = True) -> None:
        self.enc = {"a": enc_a, "b": enc_b}
        self.balanced = balanced
        self.feat = {"a": feat_a, "b": feat_b}
        self.seed = seed
        self.label, self.centre = {}, {}
        for d in ("a", "b"):
            km = KMeans(K, n_init=10, random_state=seed).fit(self.feat[d].numpy())
            self.label[d] = torch.tensor(km.labels_).long()
            self.centre[d] = torch.tensor(km.cluster_centers_, dtype=torch.float32)
        self.group: dict[str, Tensor] = {}
        self.proto: dict[str, Tensor] = {}

    def cluster(self, d: str, x: Tensor) -> Tensor:
        """The nearest of domain d's cluster centres for each image x (N, 1, H, W); (N,) ints."""
        return torch.cdist(features(self.enc[d], x), self.centre[d]).argmin(1)

    def regroup(self, g_ab: nn.Module, g_ba: nn.Module, train_a: Tensor, train_b: Tensor) -> None:
        """Group the 2K clusters by spectral clustering of the cross links (G and F's translations of the training
        images) and the within-domain nearest-centre links; recompute each group's mean feature in both domains."""
        with torch.no_grad():
            to_b = self.cluster("b", cyclegan.translate(g_ab, train_a))
            to_a = self.cluster("a", cyclegan.translate(g_ba, train_b))
        cross = torch.zeros(K, K)
        cross.index_put_((self.label["a"], to_b), torch.ones(len(to_b)), accumulate=True)
        cross.index_put_((to_a, self.label["b"]), torch.ones(len(to_a)), accumulate=True)
        w = torch.zeros(2 * K, 2 * K)
        w[:K, K:], w[K:, :K] = cross, cross.t()
        mean_w = cross.sum() / (cross > 0).sum()
        w[:K, :K], w[K:, K:] = BETA * mean_w * knn_graph(self.centre["a"]), BETA * mean_w * knn_graph(self.centre["b"])
        if self.balanced:  # spectral embedding, then groups of equal size (the digits' classes are about as frequent)
            emb = spectral_embedding(w.numpy() + 1e-3, n_components=GROUPS, drop_first=False, random_state=self.seed)
            sizes = torch.cat([torch.bincount(self.label[d], minlength=K) for d in ("a", "b")]).double().numpy()
            grp = balanced_kmeans(emb / np.linalg.norm(emb, axis=1, keepdims=True), sizes, GROUPS, self.seed)
        else:
            grp = SpectralClustering(GROUPS, affinity="precomputed",
                                     random_state=self.seed).fit_predict(w.numpy() + 1e-3)
        grp = torch.tensor(grp).long()
        self.group = {"a": grp[:K], "b": grp[K:]}
        for d in ("a", "b"):
            of = self.group[d][self.label[d]]
            self.proto[d] = F.normalize(torch.stack([self.feat[d][of == g].mean(0) if (of == g).any()
                                                     else torch.zeros(128) for g in range(GROUPS)]), dim=1)

    def loss(self, real: Tensor, fake: Tensor, src: str, dst: str) -> Tensor:
        """Cross-entropy asking the translations ``fake`` (in domain dst) of ``real`` (domain src) to lie nearest
        the mean dst feature of the real images' groups."""
        with torch.no_grad():
            target = self.group[src][self.cluster(src, real)]
        return F.cross_entropy(features(self.enc[dst], fake) @ self.proto[dst].t() / TAU, target)


def group_accuracy(groups: Groups, y_a: Tensor, y_b: Tensor) -> float:
    """For scoring only: the share of training scans whose group is their class (a group's class: the most frequent
    true class among its typeset digits)."""
    of_b = groups.group["b"][groups.label["b"]]
    cls = torch.tensor([torch.bincount(y_b[of_b == g], minlength=10).argmax().item() if (of_b == g).any() else -1
                        for g in range(GROUPS)])
    return (cls[groups.group["a"][groups.label["a"]]] == y_a).float().mean().item()


def step(nets: cyclegan.CycleGAN, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer, real_a: Tensor,
         real_b: Tensor, pool_a: cyclegan.ImagePool, pool_b: cyclegan.ImagePool, lam: float,
         groups: Groups | None) -> None:
    """cyclegan.cyclegan_step with the recipe's noise before F, plus MU x the group loss once groups exist."""
    fake_b, fake_a = nets.g_ab(real_a), nets.g_ba(real_b)
    for d in (nets.d_a, nets.d_b):
        d.requires_grad_(False)
    loss_g = lsgan_generator_loss(nets.d_b(fake_b)) + lsgan_generator_loss(nets.d_a(fake_a))
    sent_b = fake_b + T.NOISE_74 * torch.randn_like(fake_b)
    if lam > 0:
        loss_g = loss_g + lam * cycle_loss(real_a, nets.g_ba(sent_b), real_b, nets.g_ab(fake_a))
        loss_g = loss_g + T.LAMBDA_ID * lam * identity_loss(real_a, nets.g_ba(real_a), real_b, nets.g_ab(real_b))
    if groups is not None:
        loss_g = loss_g + MU * (groups.loss(real_a, fake_b, "a", "b") + groups.loss(real_b, fake_a, "b", "a"))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    for d in (nets.d_a, nets.d_b):
        d.requires_grad_(True)
    loss_d = lsgan_discriminator_loss(nets.d_a(real_a), nets.d_a(pool_a.query(fake_a))) + \
        lsgan_discriminator_loss(nets.d_b(real_b), nets.d_b(pool_b.query(fake_b)))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (2: the whole of a 2-core laptop)")
    parser.add_argument("--lam", type=float, default=LAMBDA, help="cycle weight (0: the ablation)")
    parser.add_argument("--down", type=int, default=DOWN, help="generator downsamplings (1: the lambda = 2 recipe's)")
    parser.add_argument("--blocks", type=int, default=BLOCKS, help="generator residual blocks")
    parser.add_argument("--steps", type=int, default=STEPS, help="training steps (3000: the lambda = 2 recipe's)")
    parser.add_argument("--unbalanced", action="store_true",
                        help="split the clusters by plain spectral clustering, groups of any size (the first runs)")
    args = parser.parse_args()
    sets = T.domains()
    train_a, train_b = sets["train_a"].tensors[0], sets["train_b"].tensors[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    utils.seed_everything(args.seed, threads=args.threads)
    enc_a, feat_a = simclr(train_a)
    enc_b, feat_b = simclr(train_b)
    groups = Groups(enc_a, feat_a, enc_b, feat_b, args.seed, balanced=not args.unbalanced)
    print(f"features and clusters: {time.perf_counter() - start:.0f} s")
    utils.seed_everything(args.seed, threads=args.threads)
    nets = T.networks(args.blocks, args.down)
    for net in (nets.g_ab, nets.g_ba, nets.d_a, nets.d_b):
        net.train()
    sample_a, sample_b = cyclegan.image_sampler(sets["train_a"], args.seed), cyclegan.image_sampler(sets["train_b"],
                                                                                                  args.seed + 1)
    opt_g = torch.optim.Adam(nets.generators(), lr=T.LR, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(nets.discriminators(), lr=T.LR, betas=(0.5, 0.999))
    decay = cyclegan.linear_decay(args.steps, args.steps // 2)
    group_from, group_every = 2 * args.steps // 3, args.steps // 6
    schedules = [torch.optim.lr_scheduler.LambdaLR(opt, decay) for opt in (opt_g, opt_d)]
    pool_a, pool_b = cyclegan.ImagePool(T.POOL, args.seed), cyclegan.ImagePool(T.POOL, args.seed + 1)
    train_start = time.perf_counter()
    for i in utils.settings.progress(range(1, args.steps + 1), desc="grouped CycleGAN", unit="step"):
        step(nets, opt_g, opt_d, sample_a(T.BATCH), sample_b(T.BATCH), pool_a, pool_b, args.lam,
             groups if groups.group else None)  # the group loss once the first groups exist
        for schedule in schedules:
            schedule.step()
        if i >= group_from and (i - group_from) % group_every == 0 and i < args.steps:
            groups.regroup(nets.g_ab, nets.g_ba, train_a, train_b)  # translate() leaves the nets in training mode
            acc = group_accuracy(groups, sets["train_a"].tensors[1], sets["train_b"].tensors[1])
            print(f"step {i}: groups formed; {acc:.1%} of the training scans are in their class's group (scoring only)")
    train.report_time("grouped CycleGAN", args.steps, train_start, torch.device("cpu"))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    utils.seed_everything(T.SEED, threads=args.threads)
    scores = T.score(nets.g_ab, nets.g_ba, sets, T.load_classifiers())
    out = {k: round(v, 4) for k, v in scores.items() if isinstance(v, float)}
    setup = {"seed": args.seed, "lam": args.lam, "down": args.down, "blocks": args.blocks, "steps": args.steps,
             "balanced": not args.unbalanced, "threads": args.threads}
    print(json.dumps({**setup, **out, "wall_seconds": round(wall), "cpu_seconds": round(cpu)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
