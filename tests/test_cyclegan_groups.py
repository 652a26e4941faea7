"""Tests for utils.groups (notebook 07's grouped recipe): the equal-size grouping, the cluster graph, the group loss and
the training loop that forms the groups; and the hook in utils.cyclegan.cyclegan_step that carries the loss."""
import numpy as np
import pytest
import torch
from torch import nn

from utils import cyclegan, data
from utils import groups as G

CPU = torch.device("cpu")


def test_balanced_kmeans_finds_separate_blobs():
    rng = np.random.default_rng(1)
    x = np.concatenate([0.1 * rng.normal(size=(16, 10)) + 5 * np.eye(10)[i] for i in range(10)])
    labels = G.balanced_kmeans(x, np.ones(160), 10, seed=0)
    assert [len(set(labels[i * 16:(i + 1) * 16])) for i in range(10)] == [1] * 10  # each blob one group
    assert len(set(labels)) == 10  # and no two blobs share one


def test_balanced_kmeans_splits_by_weight_not_by_gaps():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(size=(30, 2)), rng.normal(size=(10, 2)) + [8, 0]])  # blobs of 30 and 10 points
    counts = np.bincount(G.balanced_kmeans(x, np.ones(40), 2, seed=0))
    assert counts.min() >= 18, counts  # plain k-means would give 30 / 10; equal weights ask for 20 / 20
    weights = np.r_[np.ones(30), 3 * np.ones(10)]  # now the small blob weighs as much as the large one
    labels = G.balanced_kmeans(x, weights, 2, seed=0)
    assert len(set(labels[30:])) == 1 and labels[30] not in set(labels[:30])


def test_balanced_kmeans_rejects_bad_input():
    with pytest.raises(ValueError, match="0 < k <= n"):
        G.balanced_kmeans(np.zeros((3, 2)), np.ones(3), 4, seed=0)
    with pytest.raises(ValueError, match="weights"):
        G.balanced_kmeans(np.zeros((3, 2)), np.ones(2), 2, seed=0)


def test_knn_graph_is_symmetric_and_links_nearest():
    centres = torch.tensor([[1.0, 0.0], [0.99, 0.1], [0.0, 1.0], [0.1, 0.99]])
    adj = G.knn_graph(centres, k=1)
    assert torch.equal(adj, adj.t()) and adj.diagonal().sum() == 0
    assert adj[0, 1] == 1 and adj[2, 3] == 1 and adj[0, 2] == 0


def test_cluster_graph_weights_each_domain_by_its_own_beta(monkeypatch):
    k = G.NEIGHBOURS + 2
    cross = torch.zeros(k, k)
    cross[0, 0], cross[1, 0] = 3.0, 1.0  # votes between the domains; mean nonzero vote 2
    centres = torch.randn(k, 5, generator=torch.Generator().manual_seed(0))
    w = G.cluster_graph(cross, centres, centres)
    assert torch.equal(w, w.t()) and torch.equal(w[:k, k:], cross)
    assert torch.allclose(w[:k, :k], 2 * G.BETA["a"] * G.knn_graph(centres))
    assert torch.allclose(w[k:, k:], 2 * G.BETA["b"] * G.knn_graph(centres))
    monkeypatch.setattr(G, "BETA", {"a": 3.0, "b": 0.0})  # A's neighbours trusted, B's ignored
    w = G.cluster_graph(cross, centres, centres)
    assert set(w[:k, :k].unique().tolist()) == {0.0, 6.0} and w[k:, k:].abs().sum() == 0
    with pytest.raises(ValueError, match="K, K"):
        G.cluster_graph(cross, centres[:-1], centres)
    with pytest.raises(ValueError, match="more centres"):
        G.knn_graph(centres[:2])


def test_distort_keeps_shape_and_range_and_varies():
    torch.manual_seed(0)
    x = data.digits(16, "train").tensors[0][:32]
    y1, y2 = G.distort(x), G.distort(x)
    assert y1.shape == x.shape and y1.min() >= -1 - 1e-5 and y1.max() <= 1 + 1e-5
    assert not torch.equal(y1, y2)  # two views of one digit differ
    assert (y1 - x).abs().mean() < 0.5  # but stay close to it


@pytest.fixture(scope="module")
def twin_groups():
    """Groups on 200 digits given to both domains, so identity translators link each cluster to the same images."""
    torch.manual_seed(0)
    x = data.digits(16, "train").tensors[0][:200]
    groups = G.Groups(x, x.clone(), seed=0, simclr_steps=3, clusters=20, groups=5, device=CPU)
    return groups, x


def test_group_loss_needs_groups_first(twin_groups):
    groups, x = twin_groups
    fresh = G.Groups.__new__(G.Groups)
    fresh.group = {}
    with pytest.raises(RuntimeError, match="regroup"):
        fresh.loss(x[:4], x[:4], "a", "b")
    with pytest.raises(ValueError, match="N >= clusters"):
        G.Groups(x[:10], x[:10], simclr_steps=1, clusters=20, device=CPU)


class Translator(nn.Module):
    """A stand-in generator: each image of a batch goes to the image ``order[i]`` of that batch."""

    def __init__(self, order: torch.Tensor | None = None) -> None:
        super().__init__()
        self.order = order
        self.p = nn.Parameter(torch.zeros(1))  # translate() looks up the device

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.order is None else x[self.order]


def same_group(groups) -> float:
    """The share of images whose cluster in A and cluster in B (the same image in both domains) share a group."""
    return (groups.group["a"][groups.label["a"]] == groups.group["b"][groups.label["b"]]).float().mean().item()


def test_regroup_follows_the_translations(twin_groups):
    groups, x = twin_groups
    shuffle = Translator(torch.randperm(len(x), generator=torch.Generator().manual_seed(0)))
    groups.regroup(shuffle, shuffle)  # translations that ignore their input: the votes link unrelated clusters
    shuffled = same_group(groups)
    faithful = Translator()
    for g_ab, g_ba in ((faithful, shuffle), (shuffle, faithful)):  # each direction's votes count on their own
        groups.regroup(g_ab, g_ba)
        assert same_group(groups) > shuffled + 0.2, (same_group(groups), shuffled)
    groups.regroup(faithful, faithful)  # each image to itself: its two clusters are linked
    assert groups.group["a"].shape == (20,) and groups.group["b"].shape == (20,)
    assert groups.proto["a"].shape == (5, 128) and torch.allclose(groups.proto["a"].norm(dim=1), torch.ones(5))
    assert same_group(groups) > shuffled + 0.2, (same_group(groups), shuffled)
    # equal groups: no group holds more than twice its share of the images
    sizes = torch.bincount(groups.group["a"][groups.label["a"]], minlength=5)
    assert sizes.max() <= 2 * len(x) / 5, sizes
    # the loss is lower for translations that stay in their input's group than for shuffled ones
    keep = groups.loss(x, x, "a", "b")
    assert keep < groups.loss(x, shuffle(x), "a", "b")
    labels = data.digits(16, "train").tensors[1][:200]
    assert 0 <= groups.accuracy(labels, labels) <= 1


def small_nets() -> cyclegan.CycleGAN:
    torch.manual_seed(0)
    return cyclegan.CycleGAN(cyclegan.resnet_generator(1, 1, 8, 1, 2), cyclegan.resnet_generator(1, 1, 8, 1, 2),
                             cyclegan.cyclegan_discriminator(1, 8, 2), cyclegan.cyclegan_discriminator(1, 8, 2))


def one_step(extra) -> list[torch.Tensor]:
    nets = small_nets()
    a, b = data.digits(16, "train").tensors[0][:4], data.digits(16, "test").tensors[0][:4]
    opt_g = torch.optim.Adam(nets.generators(), 1e-3)
    opt_d = torch.optim.Adam(nets.discriminators(), 1e-3)
    pools = cyclegan.ImagePool(4, 0), cyclegan.ImagePool(4, 1)
    cyclegan.cyclegan_step(nets, opt_g, opt_d, a, b, *pools, extra_loss=extra)
    return [p.detach().clone() for p in nets.generators()]


def test_extra_loss_enters_the_generators_step():
    plain = one_step(None)
    zero = one_step(lambda ra, fb, rb, fa: torch.zeros(()))
    pulled = one_step(lambda ra, fb, rb, fa: 100 * fb.mean())
    assert all(torch.equal(p, q) for p, q in zip(plain, zero))  # a zero extra term changes nothing
    assert any(not torch.equal(p, q) for p, q in zip(plain, pulled))  # a real one moves the generators


def test_train_grouped_cyclegan_forms_groups_at_two_thirds_and_five_sixths(twin_groups):
    groups, x = twin_groups
    labels = data.digits(16, "train").tensors[1][:200]
    calls = []
    original = groups.loss

    def counting(*args):
        calls.append(args[2])
        return original(*args)

    groups.group, groups.proto = {}, {}
    groups.loss = counting
    try:
        history, formed = G.train_grouped_cyclegan(small_nets(), groups, 12, batch_size=4, labels=(labels, labels),
                                                   log_every=4, device=CPU)
    finally:
        del groups.loss
    assert [s for s, _ in formed] == [8, 10] and all(0 <= acc <= 1 for _, acc in formed)
    assert calls == ["a", "b"] * 4  # the loss in both directions, from step 9 to 12 only
    assert history.step == [4, 8, 12]
    with pytest.raises(ValueError, match="at least 6"):
        G.train_grouped_cyclegan(small_nets(), groups, 5, device=CPU)


def test_group_accuracy_names_each_group_by_its_typeset_majority():
    fake = G.Groups.__new__(G.Groups)
    fake.n_groups = 2
    fake.label = {"a": torch.tensor([0, 0, 1, 1]), "b": torch.tensor([0, 1, 1, 1])}  # each image's cluster
    fake.group = {"a": torch.tensor([1, 0]), "b": torch.tensor([0, 1])}  # each cluster's group
    # B: image 0 in group 0 (class 3), images 1-3 in group 1 (classes 5, 5, 3): group 0 is "3", group 1 is "5"
    # A: images 0-1 in group 1 ("5"), images 2-3 in group 0 ("3")
    assert fake.accuracy(torch.tensor([5, 3, 3, 3]), torch.tensor([3, 5, 5, 3])) == 0.75
