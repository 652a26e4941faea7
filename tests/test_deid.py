"""Face de-identification (utils.deidentify) and the face split (utils.data.face_images)."""

import math

import pytest
import torch

from utils import data, deidentify


def test_face_images_split_is_fixed_and_disjoint():
    everyone = data.face_images(32)
    train, test = data.face_images(32, "train"), data.face_images(32, "test")
    assert everyone.shape == (100, 1, 32, 32) and train.shape == (80, 1, 32, 32) and test.shape == (20, 1, 32, 32)
    assert everyone.min() >= -1 and everyone.max() <= 1
    rows = {tuple(x.flatten().tolist()) for x in everyone}
    assert {tuple(x.flatten().tolist()) for x in torch.cat([train, test])} == rows
    assert not {tuple(x.flatten().tolist()) for x in train} & {tuple(x.flatten().tolist()) for x in test}
    assert torch.equal(test, data.face_images(32, "test"))
    with pytest.raises(ValueError, match="split"):
        data.face_images(32, "val")


def test_augment_faces_is_seeded_and_in_range():
    x = data.face_images(16)[:6]
    a = deidentify.augment_faces(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and a.min() >= -1 and a.max() <= 1
    assert torch.equal(a, deidentify.augment_faces(x, torch.Generator().manual_seed(0)))
    assert not torch.equal(a, x)
    with pytest.raises(ValueError, match="grey images"):
        deidentify.augment_faces(torch.zeros(2, 3, 8, 8))


def test_recogniser_codes_are_unit_vectors_and_logits_are_scaled_cosines():
    torch.manual_seed(0)
    net = deidentify.FaceRecogniser(n_people=5, dim=8, width=4).eval()
    x = data.face_images(16)[:5]
    codes = net.embed(x)
    assert codes.shape == (5, 8) and torch.allclose(codes.norm(dim=1), torch.ones(5), atol=1e-5)
    logits = net(x)
    assert logits.shape == (5, 5) and logits.abs().max() <= net.scale + 1e-4


def test_train_recogniser_learns_a_few_people():
    torch.manual_seed(0)
    faces = data.face_images(16)[:6]
    net = deidentify.FaceRecogniser(n_people=6, dim=16, width=8)
    history = deidentify.train_recogniser(net, faces, steps=60, batch_size=32, log_every=20)
    assert history.step == [20, 40, 60] and history.accuracy[-1] > 0.8 and not net.training
    assert list(history) == ["step", "loss", "accuracy"] and history.loss[-1] < history.loss[0]
    assert deidentify.photo_match_rate(net, faces, torch.arange(6), faces) > 0.8
    with pytest.raises(ValueError, match="knows 6 people"):
        deidentify.train_recogniser(net, data.face_images(16)[:4], steps=1)


def test_match_rate_finds_each_gallery_face_itself():
    torch.manual_seed(0)
    net = deidentify.FaceRecogniser(n_people=10, dim=16, width=4)
    gallery = data.face_images(16)[:10]
    assert deidentify.match_rate(net, gallery, torch.arange(10), gallery) == 1.0
    assert deidentify.match_rate(net, gallery[:2], torch.tensor([1, 0]), gallery) == 0.0
    with pytest.raises(ValueError, match="one person per probe"):
        deidentify.match_rate(net, gallery, torch.arange(3), gallery)


def test_deidentify_stays_within_epsilon_and_moves_the_code_away():
    torch.manual_seed(0)
    faces = data.face_images(16)[:6]
    net = deidentify.FaceRecogniser(n_people=6, dim=16, width=8)
    deidentify.train_recogniser(net, faces, steps=40, batch_size=32)
    changed = deidentify.deidentify(net, faces, epsilon=0.2, steps=20)
    assert changed.shape == faces.shape and changed.min() >= -1 and changed.max() <= 1
    assert (changed - faces).abs().max() <= 0.2 + 1e-6
    own = deidentify.face_codes(net, faces)
    assert (deidentify.face_codes(net, changed) * own).sum(1).mean() < 0.8
    with pytest.raises(ValueError, match="epsilon"):
        deidentify.deidentify(net, faces, epsilon=0.0)


def test_psnr_by_hand():
    a = torch.zeros(2, 1, 4, 4)
    assert deidentify.pooled_psnr(a, a + 0.2) == pytest.approx(10 * math.log10(4 / 0.04))
    with pytest.raises(ValueError, match="same shape"):
        deidentify.pooled_psnr(a, torch.zeros(2, 1, 4, 5))
