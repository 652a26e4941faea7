"""The notebooks' own checks can fail: sabotage one piece, run the notebook, and watch the right check fail.

Each case inserts one cell (the sabotage) right after the cell that builds a component, executes the
notebook in quick mode, and expects an AssertionError from the check cell that guards that component.
A case may also name sections it does not need (``SKIP``: from the first cell containing one string to the next
cell containing another), which keeps CI fast; if a skipped cell was needed after all, the run fails with a
NameError before the check, and so does the test.
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]

CASES = {
    "01: a generator that ignores its condition": (
        "notebooks/01_conditional_generative_models.ipynb",
        "class ConditionalGaussian",
        "_forward = ConditionalGaussian.forward\n"
        "ConditionalGaussian.forward = lambda self, c: _forward(self, torch.zeros_like(c))",
        "assert hit_rate > 0.95",
    ),
    "02: the saturating loss passed off as the non-saturating one": (
        "notebooks/02_gan_from_scratch.ipynb",
        "def generator_loss_nonsaturating",
        "generator_loss_nonsaturating = generator_loss_saturating",
        "assert grad_ns[0].abs() > 100 * grad_sat[0].abs()",
    ),
    "02: a training step that never updates the generator": (
        "notebooks/02_gan_from_scratch.ipynb",
        "def gan_step",
        "def _discriminator_only(generator, discriminator, opt_g, opt_d, real, z_dim, g_loss, d_loss):\n"
        "    fake = generator(torch.randn(real.shape[0], z_dim)).detach()\n"
        "    loss_d = d_loss(discriminator(real), discriminator(fake))\n"
        "    opt_d.zero_grad(); loss_d.backward(); opt_d.step()\n"
        "    return loss_d.detach(), g_loss(discriminator(fake)).detach()\n"
        "train.gan_step = _discriminator_only",
        "assert after < 0.5 * before",
    ),
    "02: a discriminator trained with its labels swapped": (
        "notebooks/02_gan_from_scratch.ipynb",
        "def discriminator_loss",
        "_d_loss = discriminator_loss\ndiscriminator_loss = lambda real, fake: _d_loss(fake, real)",
        "assert gap < 0.05",
    ),
    "09: transposed convolutions for upsampling (checkerboards)": (
        "notebooks/09_fast_style_transfer.ipynb",
        "class UpsampleConv",
        "class UpsampleConv(nn.Module):\n"
        "    def __init__(self, in_channels, out_channels, kernel=3):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Sequential(nn.ConvTranspose2d(in_channels, out_channels, kernel, 2, kernel // 2,\n"
        "                                                     output_padding=1),\n"
        "                                  nn.InstanceNorm2d(out_channels, affine=True), nn.ReLU())\n"
        "    def forward(self, x):\n"
        "        return self.conv(x)",
        "assert spatial_std(ours) < 1e-4",
    ),
    "09: a residual block without its skip connection": (
        "notebooks/09_fast_style_transfer.ipynb",
        "class StyleResidualBlock",
        "StyleResidualBlock.forward = lambda self, x: self.body(x)",
        "assert torch.equal(block(x), x)",
    ),
    "09: a training loop whose optimiser does not move": (
        "notebooks/09_fast_style_transfer.ipynb",
        "def train_fast_style",
        "_train = train_fast_style\n"
        "train_fast_style = lambda net, *args, **kwargs: _train(net, *args, **{**kwargs, 'lr': 0.0})",
        "assert history.total[-1] < 0.8 * history.total[0]",
    ),
}


# Sections a case does not need (the run is otherwise the same): notebook 10's four applications share only the
# face data of section 1; notebook 04's conditional GAN needs neither the latent walk nor the collapsed GAN.
SKIP = {
    "04: a conditional generator that ignores its labels": [
        ("## 6. A walk through the latent space", "## 8. The class-conditional GAN")
    ],
    "10: a flicker metric that also counts the pixels whose label changed": [
        ("## 1. Deepfake detection", "## 4. Video translation")
    ],
    "10: a temporal generator that ignores its blend mask": [("## 1. Deepfake detection", "## 4. Video translation")],
    "10: a passcode generator trained blind to its passcode": [
        ("fig, axes = plt.subplots(1, 4", "## 3. Anonymisation with a passcode")
    ],
    "10: de-identification that returns the faces unchanged": [
        ("fig, axes = plt.subplots(1, 4", "## 2. Face de-identification")
    ],
}


def drop_cells(cells: list, start: str, stop: str) -> list:
    """The cells without the run from the first containing ``start`` up to (not including) the next with ``stop``."""
    starts = [k for k, c in enumerate(cells) if start in c.source]
    stops = [k for k, c in enumerate(cells) if stop in c.source and starts and k > starts[0]]
    assert starts and stops, f"no cells from {start!r} to {stop!r} to skip: has the notebook changed?"
    return cells[: starts[0]] + cells[stops[0] :]


@pytest.mark.parametrize("case", CASES)
def test_sabotage_makes_the_check_fail(case, monkeypatch):
    path, after, sabotage, check = CASES[case]
    monkeypatch.setenv("COURSE_QUICK", "1")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    nb = nbformat.read(ROOT / path, as_version=4)
    for start, stop in SKIP.get(case, ()):
        nb.cells = drop_cells(nb.cells, start, stop)
    at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and after in c.source)
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell("# sabotage\n" + sabotage))
    target = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and check in c.source)
    # Run only up to the check that should catch it.
    nb.cells = nb.cells[: target + 1]
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str((ROOT / path).parent)}},
    ).execute()
    errors = [
        (i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors, f"{case}: the notebook ran through; its check did not catch the sabotage"
    first, err = errors[0]
    assert first == target and err.ename == "AssertionError", (
        f"{case}: expected the check in cell {target} to fail, got {err.ename} in cell {first}: {err.evalue}"
    )


CASES["04: a transposed-convolution size formula with i instead of i - 1"] = (
    "notebooks/04_dcgan_and_conditional_gan.ipynb",
    "def conv_transpose_output_size",
    "conv_transpose_output_size = lambda size, kernel, stride=1, padding=0, output_padding=0: "
    "size * stride - 2 * padding + kernel + output_padding",
    "assert predicted == actual",
)
CASES["04: a DCGAN initialisation with standard deviation 0.2"] = (
    "notebooks/04_dcgan_and_conditional_gan.ipynb",
    "def dcgan_init",
    "_dcgan_init = dcgan_init\n"
    "def dcgan_init(module):\n"
    "    _dcgan_init(module)\n"
    "    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):\n"
    "        nn.init.normal_(module.weight, 0.0, 0.2)",
    "assert abs(weights.std() - 0.02)",
)
CASES["04: a conditional generator that ignores its labels"] = (
    "notebooks/04_dcgan_and_conditional_gan.ipynb",
    "class ConditionalDCGANGenerator",
    "ConditionalDCGANGenerator.forward = lambda self, z, labels: "
    "self.net(conditional_input(z, torch.zeros_like(labels), self.n_classes))",
    "assert class_accuracy >=",
)
CASES["03: packing that interleaves the coordinates of different samples"] = (
    "notebooks/03_mode_collapse.ipynb",
    "def pack",
    "pack = lambda x, m: x.T.reshape(-1, m * x.shape[1])",
    "assert pack(x, 2).tolist()",
)
CASES["03: a gradient penalty taken at the real samples only"] = (
    "notebooks/03_mode_collapse.ipynb",
    "def gradient_penalty",
    "def gradient_penalty(critic, real, fake):\n"
    "    x = real.detach().clone().requires_grad_(True)\n"
    "    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)\n"
    "    return (grad.norm(dim=1) - 1).square().mean()",
    "assert abs(gp_bowl",
)
CASES["03: unrolling that trains the real discriminator"] = (
    "notebooks/03_mode_collapse.ipynb",
    "def unroll",
    "def unroll(discriminator, real, fake, k, lr, d_loss=losses.discriminator_loss):\n"
    "    opt = torch.optim.SGD(discriminator.parameters(), lr=lr)\n"
    "    for _ in range(k):\n"
    "        loss = d_loss(discriminator(real), discriminator(fake.detach()))\n"
    "        opt.zero_grad()\n"
    "        loss.backward()\n"
    "        opt.step()\n"
    "    return dict(discriminator.named_parameters())",
    "assert all(torch.equal(a, b) for a, b in zip(before",
)
CASES["03: a minibatch std taken over the features of each row"] = (
    "notebooks/03_mode_collapse.ipynb",
    "class MinibatchStd",
    "MinibatchStd.forward = lambda self, h: torch.cat([h, h.std(dim=1, keepdim=True)], dim=1)",
    "assert torch.allclose(MinibatchStd()(h)[:, -1]",
)
CASES["06: a PSNR with the peak of [0, 1] images on [-1, 1] data"] = (
    "notebooks/06_super_resolution.ipynb",
    "def psnr",
    "psnr = lambda x, y: 10 * torch.log10(1.0 / (x - y).square().flatten(1).mean(dim=1))",
    "assert abs(value[0] - 26.0206)",
)
CASES["06: a PSNR pooled over the batch instead of one per image"] = (
    "notebooks/06_super_resolution.ipynb",
    "def psnr",
    "psnr = lambda x, y: (10 * torch.log10(4.0 / (x - y).square().mean())).expand(x.shape[0])",
    "assert abs(value[0] - 26.0206)",
)
CASES["06: a sharpness measure that is the mean absolute intensity"] = (
    "notebooks/06_super_resolution.ipynb",
    "def sharpness",
    "sharpness = lambda x: x.abs().flatten(1).mean(dim=1)",
    "assert abs(sharpness(ramp).item() - 0.1)",
)
CASES["06: a generator whose residual is added to nearest-neighbour upsampling"] = (
    "notebooks/06_super_resolution.ipynb",
    "class SRResNet",
    "def _forward(self, lr):\n"
    "    h = self.head(lr)\n"
    "    return F.interpolate(lr, scale_factor=4, mode='nearest') + self.tail(self.up(h + self.body(h)))\n"
    "SRResNet.forward = _forward",
    "assert torch.equal(G_test(lr_test[:2]), bicubic_upsample",
)
CASES["06: a conditional discriminator that does not see the LR input"] = (
    "notebooks/06_super_resolution.ipynb",
    "def d_input",
    "d_input = lambda lr, image: image",
    "assert pair.shape == (2, 6, SIZE, SIZE)",
)
CASES["06: training pairs whose LR and HR come from different crops"] = (
    "notebooks/06_super_resolution.ipynb",
    "superres.crop_sampler(SIZE, photos",
    "_sampler = superres.crop_sampler\n"
    "def _mismatched(size, photos=superres.TRAIN_PHOTOS, seed=0, scale=4):\n"
    "    draw = _sampler(size, photos, seed, scale)\n"
    "    return lambda n: (draw(n)[0], draw(n)[1])\n"
    "superres.crop_sampler = _mismatched",
    "assert gain_l1 >",
)
CASES["05: a receptive field that forgets the strides"] = (
    "notebooks/05_pix2pix.ipynb",
    "def receptive_field",
    "_receptive_field = receptive_field\n"
    "receptive_field = lambda layers: 1 + sum(m.kernel_size[0] - 1 for m in layers if isinstance(m, nn.Conv2d))",
    "assert receptive_field(D) == 70",
)
CASES["05: a discriminator that sees the photo without its label map"] = (
    "notebooks/05_pix2pix.ipynb",
    "def conditional_pair",
    "conditional_pair = lambda a, b: torch.cat([b, b], dim=1)",
    "assert real_pair.shape == (4, 6, SIZE, SIZE)",
)
CASES["05: a U-Net whose skip connections carry nothing"] = (
    "notebooks/05_pix2pix.ipynb",
    "def skip_connection",
    "pix2pix.skip_connection = lambda decoder, encoder: torch.cat([decoder, torch.zeros_like(encoder)], dim=1)",
    'assert shares["U-Net"] > 0.5',
)
CASES["05: per-class accuracy divided by the predicted counts"] = (
    "notebooks/05_pix2pix.ipynb",
    "def fcn_scores",
    "_fcn_scores = fcn_scores\n"
    "def fcn_scores(pred_ids, true_ids, n_classes):\n"
    "    hist = confusion_matrix(pred_ids, true_ids, n_classes).double()\n"
    "    return {**_fcn_scores(pred_ids, true_ids, n_classes),\n"
    "            'per_class_acc': float((hist.diag() / hist.sum(0)).nanmean())}",
    "assert all(abs(scores[k] - hand[k]) < 1e-9 for k in hand)",
)
CASES["appendix: checkpoints loaded without checking their SHA-256"] = (
    "notebooks/appendix_gpu_and_checkpoints.ipynb",
    "def verify_checkpoint",
    "verify_checkpoint = lambda name, folder=CHECKPOINTS: folder / name",
    "assert caught is not None",
)
CASES["07: a residual block that drops its skip connection"] = (
    "notebooks/07_cyclegan.ipynb",
    "class ResnetBlock",
    "ResnetBlock.forward = lambda self, x: self.body(x)",
    "a residual block with f = 0 must return its input",
)
CASES["07: least squares with the targets swapped"] = (
    "notebooks/07_cyclegan.ipynb",
    "def lsgan_discriminator_loss",
    "_lsgan_d = lsgan_discriminator_loss\nlsgan_discriminator_loss = lambda real, fake: _lsgan_d(fake, real)",
    "assert abs(lsgan_discriminator_loss(real_s, fake_s).item() - 1.25)",
)
CASES["07: a cycle loss in one direction only"] = (
    "notebooks/07_cyclegan.ipynb",
    "def cycle_loss",
    "cycle_loss = lambda real_a, rec_a, real_b, rec_b: F.l1_loss(rec_a, real_a)",
    "assert cycle_loss(a, a, b, b).item() == 0",
)
CASES["07: a history pool that only ever returns the new images"] = (
    "notebooks/07_cyclegan.ipynb",
    "class ImagePool",
    "ImagePool.query = lambda self, images: images.detach()",
    "assert abs(old / 2000 - 0.5) < 0.05",
)
CASES["07: the full CycleGAN swapped for the one trained without the cycle loss"] = (
    "notebooks/07_cyclegan.ipynb",
    "fake_a = {name: cyclegan.translate(g_ba, x_b)",
    "generators['cycle'] = generators['nocycle']\n"
    "fake_b['cycle'], fake_a['cycle'] = fake_b['nocycle'], fake_a['nocycle']",
    "assert full[key] > none[key] + 0.3",
)
CASES["07: a confusion matrix with its rows and columns swapped"] = (
    "notebooks/07_cyclegan.ipynb",
    "fake_a = {name: cyclegan.translate(g_ba, x_b)",
    "_confusion = fcn_score.confusion_matrix\n"
    "fcn_score.confusion_matrix = lambda pred_ids, true_ids, n_classes: _confusion(true_ids, pred_ids, n_classes)",
    "assert conf.sum(1).tolist() == torch.bincount(y_a, minlength=10).tolist()",
)
CASES["07: the B → A confusion matrix with its rows and columns swapped"] = (
    "notebooks/07_cyclegan.ipynb",
    "conf_ba = fcn_score.confusion_matrix(",
    "conf_ba = conf_ba.T.contiguous()",
    "assert back_ji > 2 * other",
)
CASES["08: a Gram matrix without the transpose (positions x positions)"] = (
    "notebooks/08_perceptual_loss_and_style_transfer.ipynb",
    "def gram_matrix",
    "def gram_matrix(features, normalise='chw'):\n"
    "    b, c, h, w = features.shape\n"
    "    flat = features.reshape(b, c, h * w)\n"
    "    return flat.transpose(1, 2) @ flat / (c * h * w)",
    "assert G.shape == (1, 2, 2)",
)
CASES["08: a Gram matrix divided by H W where C H W was promised"] = (
    "notebooks/08_perceptual_loss_and_style_transfer.ipynb",
    "def gram_matrix",
    "_gram_matrix = gram_matrix\ngram_matrix = lambda features, normalise='chw': _gram_matrix(features, 'hw')",
    "assert G.shape == (1, 2, 2)",
)
CASES["08: a content loss that ignores its target"] = (
    "notebooks/08_perceptual_loss_and_style_transfer.ipynb",
    "loss_net = P.vgg_features(ARCH, LAYERS",
    "P.content_loss = lambda feat, target_feat: feat.square().mean()",
    'assert inversion_errors["relu1_2"] < 0.1',
)
CASES["08: optimise_image that returns its init (with an honest one-evaluation history)"] = (
    "notebooks/08_perceptual_loss_and_style_transfer.ipynb",
    "class TanhPixels",
    "def _lazy(loss_net, init, content=None, style=None, content_weight=1.0, style_weight=1.0, **kwargs):\n"
    "    loss = P.perceptual_objective(loss_net, init, content, style, content_weight, style_weight)['total']\n"
    "    return init.detach().clone(), [loss.item()]\n"
    "P.optimise_image = _lazy",
    "assert h[-1] < 0.1 * h[0]",
)
CASES["10: a detector step with the labels swapped"] = (
    "notebooks/10_applications.ipynb",
    "def detector_step",
    "_detector_step = detector_step\n"
    "detector_step = lambda detector, optimiser, real, fake: _detector_step(detector, optimiser, fake, real)",
    "assert lin(real_demo).item() > 0 > lin(fake_demo).item()",
)
CASES["10: detectors whose optimiser does not move"] = (
    "notebooks/10_applications.ipynb",
    "def high_pass",
    "_train_detector = deepfake.train_detector\n"
    "deepfake.train_detector = lambda *args, **kwargs: _train_detector(*args, **{**kwargs, 'lr': 0.0})",
    "assert best_seen >= pick(",
)
CASES["10: de-identification that returns the faces unchanged"] = (
    "notebooks/10_applications.ipynb",
    "rec_history = deidentify.train_recogniser",
    "deidentify.deidentify = lambda net, faces, **kwargs: faces.clone()",
    "assert match_after <= pick(",
)
CASES["10: a passcode generator trained blind to its passcode"] = (
    "notebooks/10_applications.ipynb",
    "pc_library = passcode.passcode_losses(",
    "passcode.passcode_input = lambda images, codes: torch.cat(\n"
    "    [images, torch.zeros(images.shape[0], codes.shape[1], *images.shape[2:])], dim=1)",
    'assert pick(learner=5, quick=2) * pc_errors["right"] <= pc_errors["wrong"]',
)
CASES["10: a flicker metric that also counts the pixels whose label changed"] = (
    "notebooks/10_applications.ipynb",
    "def flicker(frames: Tensor, labels: Tensor) -> float:",
    "flicker = lambda frames, labels: float((frames[1:] - frames[:-1]).abs().mean())",
    "assert isinstance(vid_hand, float) and abs(vid_hand - 0.1) < 1e-6",
)
CASES["10: a temporal generator that ignores its blend mask"] = (
    "notebooks/10_applications.ipynb",
    "class TemporalGenerator(nn.Module):",
    "TemporalGenerator.forward = lambda self, a: self.unet(a)[:, :3]",
    "assert torch.allclose(vid_blend[1.0], vid_prev",
)


def test_every_skip_belongs_to_a_case():
    assert set(SKIP) <= set(CASES), set(SKIP) - set(CASES)
