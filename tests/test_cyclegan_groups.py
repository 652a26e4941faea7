"""Tests for scripts/cyclegan_groups.py (notebook 07's grouped lever): the equal-size grouping and the cluster graph."""
import importlib
from pathlib import Path

import numpy as np
import pytest
import torch

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture(scope="module")
def groups_script():
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(SCRIPTS))  # the script imports its sibling train_cyclegan
        yield importlib.import_module("cyclegan_groups")


def test_balanced_kmeans_finds_separate_blobs(groups_script):
    rng = np.random.default_rng(1)
    x = np.concatenate([0.1 * rng.normal(size=(16, 10)) + 5 * np.eye(10)[i] for i in range(10)])
    labels = groups_script.balanced_kmeans(x, np.ones(160), 10, seed=0)
    assert [len(set(labels[i * 16:(i + 1) * 16])) for i in range(10)] == [1] * 10  # each blob one group
    assert len(set(labels)) == 10  # and no two blobs share one


def test_balanced_kmeans_splits_by_weight_not_by_gaps(groups_script):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(size=(30, 2)), rng.normal(size=(10, 2)) + [8, 0]])  # blobs of 30 and 10 points
    counts = np.bincount(groups_script.balanced_kmeans(x, np.ones(40), 2, seed=0))
    assert counts.min() >= 18, counts  # plain k-means would give 30 / 10; equal weights ask for 20 / 20
    weights = np.r_[np.ones(30), 3 * np.ones(10)]  # now the small blob weighs as much as the large one
    labels = groups_script.balanced_kmeans(x, weights, 2, seed=0)
    assert len(set(labels[30:])) == 1 and labels[30] not in set(labels[:30])


def test_knn_graph_is_symmetric_and_links_nearest(groups_script):
    centres = torch.tensor([[1.0, 0.0], [0.99, 0.1], [0.0, 1.0], [0.1, 0.99]])
    adj = groups_script.knn_graph(centres, k=1)
    assert torch.equal(adj, adj.t()) and adj.diagonal().sum() == 0
    assert adj[0, 1] == 1 and adj[2, 3] == 1 and adj[0, 2] == 0
