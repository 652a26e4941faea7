"""Anonymisation with a passcode (utils.passcode): passcodes, the generator's input, the losses, training, measuring."""

import pytest
import torch

from utils import data, pix2pix
from utils import passcode as pc


def small_generator(bits: int = 4, size: int = 8) -> torch.nn.Module:
    torch.manual_seed(0)
    return pix2pix.unet_generator(1 + bits, 1, size, width=4, dropout=0)


def test_random_passcodes_are_plus_minus_one_and_seeded():
    codes = pc.random_passcodes(50, 16, torch.Generator().manual_seed(0))
    assert codes.shape == (50, 16) and codes.dtype == torch.float32
    assert set(codes.unique().tolist()) == {-1.0, 1.0}
    assert torch.equal(codes, pc.random_passcodes(50, 16, torch.Generator().manual_seed(0)))
    with pytest.raises(ValueError, match="bits"):
        pc.random_passcodes(3, 0)


def test_passcode_input_puts_the_image_first_then_one_constant_plane_per_bit():
    images = torch.rand(3, 2, 4, 5) * 2 - 1
    codes = pc.random_passcodes(3, 6, torch.Generator().manual_seed(1))
    out = pc.passcode_input(images, codes)
    assert out.shape == (3, 8, 4, 5)
    assert torch.equal(out[:, :2], images)
    for i in range(3):
        for k in range(6):
            assert torch.equal(out[i, 2 + k], torch.full((4, 5), float(codes[i, k])))


def test_passcode_input_refuses_bad_shapes():
    with pytest.raises(ValueError, match="same N"):
        pc.passcode_input(torch.zeros(2, 1, 4, 4), torch.ones(3, 4))
    with pytest.raises(ValueError, match=r"\(N, B\)"):
        pc.passcode_input(torch.zeros(2, 1, 4, 4), torch.ones(2))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        pc.passcode_input(torch.zeros(1, 4, 4), torch.ones(1, 4))


def test_inverse_flips_every_bit_and_codes_must_be_plus_minus_one():
    codes = torch.tensor([[1.0, -1.0, 1.0]])
    assert torch.equal(pc.inverse_passcode(codes), -codes)
    assert torch.equal(pc.inverse_passcode(pc.inverse_passcode(codes)), codes)
    with pytest.raises(ValueError, match="-1 or \\+1"):
        pc.inverse_passcode(torch.tensor([[0.0, 1.0]]))
    with pytest.raises(ValueError, match="one passcode per image"):
        pc.anonymise(small_generator(), torch.zeros(2, 1, 8, 8), torch.ones(3, 4))


def test_anonymise_and_recover_are_one_generator_with_p_and_minus_p():
    g = small_generator().eval()
    x = torch.rand(2, 1, 8, 8) * 2 - 1
    p = pc.random_passcodes(2, 4, torch.Generator().manual_seed(2))
    with torch.no_grad():
        y = pc.anonymise(g, x, p)
        assert y.shape == x.shape
        assert torch.equal(pc.recover(g, y, p), g(pc.passcode_input(y, -p)))


def test_flip_and_shift_keeps_shape_and_range():
    x = torch.rand(6, 1, 8, 8) * 2 - 1
    out = pc.flip_and_shift(x, shift=2, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.min() >= x.min() and out.max() <= x.max()
    flipped_only = pc.flip_and_shift(x, shift=0, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(f, i) or torch.equal(f, i.flip(-1)) for f, i in zip(flipped_only, x))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        pc.flip_and_shift(torch.zeros(8, 8))


def test_losses_are_scalars_and_the_identity_and_gan_terms_are_optional():
    g = small_generator()
    d = pix2pix.patchgan_discriminator(1, width=4, n_layers=1)
    x = torch.rand(4, 1, 8, 8) * 2 - 1
    codes = pc.random_passcodes(12, 4, torch.Generator().manual_seed(3)).split(4)
    plain = pc.passcode_losses(g, x, *codes)
    assert plain["identity"] == 0 and plain["gan"] == 0
    full = pc.passcode_losses(
        g, x, *codes, identity=lambda im: torch.nn.functional.normalize(im.flatten(1), dim=1), discriminator=d
    )
    for key in ("total", "recovery", "wrong", "anonymity", "diversity", "identity", "gan"):
        assert full[key].dim() == 0 and torch.isfinite(full[key])
    assert full["gan"] > 0 and full["identity"] >= 0
    assert full["y"].shape == x.shape and not full["y"].requires_grad
    full["total"].backward()
    assert all(p.grad is None for p in d.parameters())  # G's step leaves D's gradients alone


def test_a_few_training_steps_lower_the_recovery_loss():
    faces = data.face_images(8, "train")[:8]
    g = small_generator()
    history = pc.train_passcode(
        g, faces, steps=60, batch_size=8, bits=4, lr=1e-3, warmup=60, log_every=10, device=torch.device("cpu")
    )
    assert len(history.step) == 6 and history.seconds > 0
    assert history.recovery[-1] < history.recovery[0]
    assert all(v != v for v in history.d_loss)  # nan without a discriminator
    keys = ["total", "recovery", "wrong", "anonymity", "diversity", "identity", "gan", "d_loss"]
    assert list(history) == ["step", *keys] and all(len(history[k]) == 6 for k in keys)


def test_training_with_a_discriminator_logs_its_loss():
    faces = torch.rand(8, 1, 8, 8) * 2 - 1
    d = pix2pix.patchgan_discriminator(1, width=4, n_layers=1)
    history = pc.train_passcode(
        small_generator(),
        faces,
        steps=4,
        batch_size=4,
        bits=4,
        discriminator=d,
        log_every=2,
        device=torch.device("cpu"),
    )
    assert len(history.d_loss) == 2 and all(v == v for v in history.d_loss)


def test_recovery_errors_reports_right_wrong_anonymised_and_ratio():
    g = small_generator()
    g.train()
    faces = torch.rand(4, 1, 8, 8) * 2 - 1
    gen = torch.Generator().manual_seed(4)
    out = pc.recovery_errors(g, faces, pc.random_passcodes(4, 4, gen), pc.random_passcodes(4, 4, gen))
    assert set(out) == {"right", "wrong", "anonymised", "ratio"}
    assert all(isinstance(v, float) and v >= 0 for v in out.values())
    assert g.training  # mode restored
    with pytest.raises(ValueError, match="one shape"):
        pc.recovery_errors(g, faces, torch.ones(4, 4), torch.ones(4, 3))
