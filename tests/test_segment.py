"""The FCN-score analogue: the confusion matrix and the three scores worked out by hand, the segmenter's shapes and
input checks, and a short training run that learns to segment procedural facades far better than chance."""

import math

import pytest
import torch

import utils
from utils import fcn_score
from utils.data import facades


# --------------------------------------------------------------------------- the scores, by hand
def test_confusion_matrix_counts_true_rows_predicted_columns():
    true = torch.tensor([[0, 0, 1, 2]])
    pred = torch.tensor([[0, 1, 1, 1]])
    hist = fcn_score.confusion_matrix(pred, true, 3)
    assert hist.tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert hist.dtype == torch.int64 and int(hist.sum()) == true.numel()


def test_fcn_scores_worked_out_by_hand():
    # true 0 0 1 2 | pred 0 1 1 1: n_00 = 1, n_01 = 1, n_11 = 1, n_21 = 1.
    true = torch.tensor([[0, 0, 1, 2]])
    pred = torch.tensor([[0, 1, 1, 1]])
    s = fcn_score.fcn_scores(pred, true, 3)
    assert s["per_pixel_acc"] == pytest.approx(2 / 4)
    assert s["per_class_acc"] == pytest.approx((1 / 2 + 1 / 1 + 0 / 1) / 3)
    # IoU: class 0: 1 / (2 + 1 - 1); class 1: 1 / (1 + 3 - 1); class 2: 0 / (1 + 0 - 0)
    assert s["class_iou"] == pytest.approx((1 / 2 + 1 / 3 + 0) / 3)


def test_fcn_scores_perfect_and_constant_predictions():
    true = torch.randint(0, 12, (3, 16, 16), generator=torch.Generator().manual_seed(0))
    perfect = fcn_score.fcn_scores(true.clone(), true, 12)
    assert perfect == {"per_pixel_acc": 1.0, "per_class_acc": 1.0, "class_iou": 1.0}
    const = fcn_score.fcn_scores(torch.zeros_like(true), true, 12)
    share0 = float((true == 0).float().mean())
    assert const["per_pixel_acc"] == pytest.approx(share0)
    assert const["per_class_acc"] == pytest.approx(1 / 12)  # class 0 fully right, the 11 others never
    assert const["class_iou"] == pytest.approx(share0 / 12)


def test_classes_absent_from_the_truth_are_skipped_like_the_papers_code():
    true = torch.tensor([0, 0, 1, 1])
    # class 2 is absent and never predicted: left out of both means (0/0).
    s = fcn_score.fcn_scores(torch.tensor([0, 0, 1, 1]), true, 3)
    assert s == {"per_pixel_acc": 1.0, "per_class_acc": 1.0, "class_iou": 1.0}
    # class 2 absent from the truth but predicted once: its IoU counts as 0; its accuracy is still 0/0 (skipped).
    s = fcn_score.fcn_scores(torch.tensor([0, 0, 1, 2]), true, 3)
    assert s["per_class_acc"] == pytest.approx((1 + 0.5) / 2)
    assert s["class_iou"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert not any(math.isnan(v) for v in s.values())


def test_fcn_scores_reject_bad_input():
    ids = torch.zeros(2, 4, 4, dtype=torch.int64)
    with pytest.raises(ValueError, match="one shape"):
        fcn_score.fcn_scores(ids, ids[:1], 12)
    with pytest.raises(ValueError, match="0..11"):
        fcn_score.fcn_scores(ids + 12, ids, 12)
    with pytest.raises(TypeError, match="integer"):
        fcn_score.fcn_scores(ids.float(), ids, 12)
    with pytest.raises(TypeError, match="torch.Tensor"):
        fcn_score.fcn_scores(ids.tolist(), ids, 12)
    with pytest.raises(ValueError, match="empty"):
        fcn_score.fcn_scores(ids[:0], ids[:0], 12)


# --------------------------------------------------------------------------- the segmenter
def test_segmenter_shapes_and_checks():
    utils.seed_everything(0, threads=1)
    net = fcn_score.segmenter(12, width=4)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    assert net(x).shape == (2, 12, 32, 32)
    ids = fcn_score.segment(net, x)
    assert ids.shape == (2, 32, 32) and ids.dtype == torch.int64 and net.training  # mode restored
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        net(torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        fcn_score.segment(net, x * 5)
    with pytest.raises(ValueError, match="int64 class ids"):
        fcn_score.train_segmenter(net, x, torch.zeros(2, 32, 32), epochs=1)


def test_segmenter_learns_procedural_facades():
    utils.seed_everything(0, threads=1)
    _, photos, labels = facades.facades_pairs(48, 32, seed=5).tensors
    net = fcn_score.segmenter(facades.N_CLASSES, width=8)
    losses = fcn_score.train_segmenter(
        net, photos[:40], labels[:40], epochs=25, batch_size=8, device=torch.device("cpu")
    )
    assert losses[-1] < 0.75 * losses[0]
    s = fcn_score.score_photos(net, photos[40:], labels[40:])
    majority = float(torch.bincount(labels[40:].flatten()).max()) / labels[40:].numel()  # always the commonest class
    assert s["per_pixel_acc"] > majority + 0.1
