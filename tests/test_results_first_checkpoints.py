"""The checkpoints behind the "finished result" pictures of notebooks 04 and 06 do what those pictures claim.

* ``digits_cgan.pt`` (scripts/train_digits_cgan.py): asked for a digit, the conditional generator draws that digit.
  The shipped digit classifier of notebook 07, trained on the same train split, reads most samples as requested.
* ``superres_l1.pt`` and ``superres_l1_gan.pt`` (scripts/train_superres.py): on the held-out photo, which no model
  saw, the L1 model beats bicubic interpolation in PSNR, and the adversarially fine-tuned one is the sharper.
"""

import json
from pathlib import Path

import pytest
import torch

from utils import metrics, models, superres
from utils.course import checkpoints

ROOT = Path(__file__).resolve().parents[1]
SR = json.loads((ROOT / "notebooks" / "data" / "superres_checkpoints.json").read_text())


@pytest.fixture(scope="module")
def cgan_and_reader():
    cgan = checkpoints.load_checkpoint(models.ConditionalDCGANGenerator(32, 10, 16, width=32), "digits_cgan.pt")
    reader = checkpoints.load_checkpoint(models.DigitClassifier(size=16), "digits_handwritten_classifier.pt")
    return cgan.eval(), reader.eval()


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_the_conditional_gan_draws_the_digit_asked_for(cgan_and_reader, mode):
    cgan, reader = cgan_and_reader
    torch.manual_seed(1)
    asked = torch.arange(10).repeat_interleave(50)  # 50 requests for each digit
    with torch.no_grad():
        answers = cgan.train(mode == "train")(torch.randn(len(asked), 32), asked)
    cgan.eval()
    read = metrics.classify(reader, answers)
    per_class = torch.stack([(read[asked == k] == k).float().mean() for k in range(10)])
    assert per_class.mean() >= 0.9, f"only {100 * per_class.mean():.0f}% read as the digit asked for ({mode} mode)"
    assert per_class.min() >= 0.6, f"the digits read as asked, per class: {per_class.tolist()} ({mode} mode)"


def test_the_conditional_gan_listens_to_the_label_not_only_the_noise(cgan_and_reader):
    """The same noise asked for two different digits gives two different images, read as those digits."""
    cgan, reader = cgan_and_reader
    torch.manual_seed(2)
    z = torch.randn(100, 32)
    with torch.no_grad():
        threes, sevens = cgan(z, torch.full((100,), 3)), cgan(z, torch.full((100,), 7))
    assert (threes - sevens).abs().mean() > 0.1, "changing the label should change the image"
    assert (metrics.classify(reader, threes) == 3).float().mean() >= 0.8
    assert (metrics.classify(reader, sevens) == 7).float().mean() >= 0.8


@pytest.fixture(scope="module")
def sr_scores():
    lr_test, hr_test = superres.tiles(superres.HELD_OUT, size=SR["recipe"]["size"])
    scores = {"bicubic": superres.evaluate(superres.bicubic_upsample, lr_test, hr_test)}
    for name, file in SR["checkpoints"].items():
        model = checkpoints.load_checkpoint(superres.SRResNet(SR["recipe"]["width"], SR["recipe"]["blocks"]), file)
        scores[name] = superres.evaluate(model, lr_test, hr_test)
    return scores


def test_the_shipped_sr_models_were_trained_without_the_held_out_photo():
    assert SR["held_out"] == superres.HELD_OUT and superres.HELD_OUT not in superres.TRAIN_PHOTOS
    assert set(SR["checkpoints"]) == {"L1", "L1 + adversarial"}


def test_the_l1_model_beats_bicubic_on_the_held_out_photo(sr_scores):
    gain = sr_scores["L1"]["psnr"] - sr_scores["bicubic"]["psnr"]
    assert gain >= 0.5, f"the L1 model is only {gain:+.2f} dB over bicubic on the held-out photo"
    assert sr_scores["L1"]["sharpness"] > sr_scores["bicubic"]["sharpness"], "the L1 model should add edges"


def test_the_adversarial_model_trades_psnr_for_sharpness(sr_scores):
    gan, l1, bicubic = sr_scores["L1 + adversarial"], sr_scores["L1"], sr_scores["bicubic"]
    assert gan["sharpness"] > l1["sharpness"] + 0.05, f"not sharper than the L1 model: {gan} vs {l1}"
    assert gan["psnr"] < l1["psnr"], "the adversarial model should pay for its edges in PSNR"
    assert gan["psnr"] > bicubic["psnr"] - 0.5, f"the adversarial model fell far below bicubic: {gan} vs {bicubic}"


def test_the_stored_scores_are_those_of_the_shipped_models(sr_scores):
    """The JSON the notebook reads was written from these very checkpoints."""
    for name, stored in SR["scores"].items():
        assert sr_scores[name]["psnr"] == pytest.approx(stored["psnr"], abs=0.01), name
        assert sr_scores[name]["sharpness"] == pytest.approx(stored["sharpness"], abs=0.005), name
