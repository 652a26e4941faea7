"""Deepfake detection (utils.deepfake): the generators, the high-pass input, the detector's step, training, scoring."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from utils import data, deepfake, deidentify, models
from utils.course import checkpoints


def test_high_pass_removes_flat_images_and_keeps_detail():
    flat = torch.full((2, 1, 6, 6), -0.4)
    assert torch.allclose(deepfake.high_pass(flat), torch.zeros_like(flat), atol=1e-6)
    dot = torch.zeros(1, 1, 5, 5)
    dot[0, 0, 2, 2] = 9.0
    out = deepfake.high_pass(dot)
    assert out[0, 0, 2, 2].item() == pytest.approx(8.0) and out[0, 0, 1, 1].item() == pytest.approx(-1.0)
    assert torch.allclose(deepfake.HighPass()(dot), 4 * out)


@pytest.mark.parametrize("high_pass_input", [True, False])
def test_face_detector_gives_one_logit_per_face(high_pass_input):
    net = deepfake.face_detector(high_pass_input, width=8)
    assert net(torch.zeros(3, 1, 32, 32)).shape == (3, 1)
    assert isinstance(net[0], deepfake.HighPass) == high_pass_input


@pytest.mark.parametrize("family", ["dcgan", "upsample"])
def test_face_generators_make_32px_faces(family):
    net = deepfake.face_generator(family).eval()
    out = net(torch.randn(4, deepfake.FACE_Z))
    assert out.shape == (4, 1, 32, 32) and out.abs().max() <= 1
    with pytest.raises(ValueError, match="family"):
        deepfake.face_generator("vae")


def test_sample_fakes_is_seeded():
    net = deepfake.face_generator("dcgan")
    a = deepfake.sample_fakes(net, 5, deepfake.FACE_Z, seed=3)
    assert torch.equal(a, deepfake.sample_fakes(net, 5, deepfake.FACE_Z, seed=3))
    assert not torch.equal(a, deepfake.sample_fakes(net, 5, deepfake.FACE_Z, seed=4))


def test_detector_step_is_the_mean_binary_cross_entropy_and_leaves_the_generator_alone():
    torch.manual_seed(0)
    det = nn.Sequential(nn.Flatten(), nn.Linear(16, 1))
    gen = nn.Linear(3, 16)
    real = torch.randn(5, 1, 4, 4)
    fake = gen(torch.randn(7, 3)).reshape(7, 1, 4, 4)
    with torch.no_grad():
        logits = det(torch.cat([real, fake]))
        expected = F.binary_cross_entropy_with_logits(logits, torch.cat([torch.ones(5, 1), torch.zeros(7, 1)]))
    loss = deepfake.detector_step(det, torch.optim.SGD(det.parameters(), lr=0.1), real, fake)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6) and not loss.requires_grad
    assert all(p.grad is None for p in gen.parameters()), "the fakes must be detached"


def test_train_detector_learns_an_easy_difference_and_scores_it():
    torch.manual_seed(0)
    real = data.face_images(32, "train")[:16]
    det = models.dcgan_discriminator(32, 1, 8, batch_norm=False)  # batch-norm statistics would need more steps
    history = deepfake.train_detector(
        det, real, lambda n: torch.full((n, 1, 32, 32), -0.9), steps=30, batch_size=16, lr=2e-3, log_every=10
    )
    assert history.step == [10, 20, 30] and history.loss[-1] < 0.3 and not det.training
    assert list(history) == ["step", "loss"] and history.seconds > 0
    gen = torch.Generator().manual_seed(1)
    fake = deidentify.augment_faces(torch.full((8, 1, 32, 32), -0.9), gen)
    acc = deepfake.detection_accuracy(det, deidentify.augment_faces(data.face_images(32, "test"), gen), fake)
    assert acc["fake"] == 1.0 and acc["real"] == 1.0 and acc["overall"] == 1.0


def test_detection_accuracy_counts_each_side():
    class Mean(nn.Module):
        def forward(self, x):
            return x.mean((1, 2, 3)).unsqueeze(1)

    probe = nn.Sequential(Mean(), nn.Linear(1, 1))
    with torch.no_grad():
        probe[1].weight.fill_(1.0)
        probe[1].bias.zero_()
    real = torch.cat([torch.full((3, 1, 4, 4), 0.5), torch.full((1, 1, 4, 4), -0.5)])  # 3 of 4 called real
    fake = torch.full((2, 1, 4, 4), -0.5)  # both called fake
    acc = deepfake.detection_accuracy(probe, real, fake)
    assert acc == {"real": 0.75, "fake": 1.0, "overall": 0.875}
    with pytest.raises(ValueError, match="grey images"):
        deepfake.detection_accuracy(probe, torch.zeros(2, 3, 4, 4), fake)


def test_shipped_face_generators_load_and_differ():
    outs = {}
    for name, (family, _) in deepfake.FACE_GANS.items():
        net = checkpoints.load_checkpoint(deepfake.face_generator(family), name)
        outs[name] = deepfake.sample_fakes(net, 8, deepfake.FACE_Z, seed=0)
        assert outs[name].shape == (8, 1, 32, 32) and outs[name].std() > 0.1
    a, b = outs["face_gan_dcgan.pt"], outs["face_gan_dcgan_seed1.pt"]
    assert (a - b).abs().mean() > 0.05


def test_train_face_gan_runs():
    net = deepfake.face_generator("upsample")
    history = deepfake.train_face_gan(net, data.face_images(32, "train")[:8], steps=2, batch_size=4)
    assert len(history.d_loss) >= 1 and all(math.isfinite(v) for v in history.d_loss)
