"""Automatic checks for the exercises in ``lessons/``.

Each ``check_*`` calls the learner's function on known cases (values worked out by hand) and on stored
reference values (computed once from the course's reference implementation), raises ``AssertionError``
with a hint when something is off, and prints a line saying what passed.

One module per lesson (``gan``: 01 and 02, ``mode_collapse``: 03, ``dcgan``: 04, ``pix2pix``: 05, ``cyclegan``: 07,
``perceptual``: 08, ``applications``: 10); ``_core`` holds the shared driver that runs a check's table of cases
and typical mistakes. Use them as ``from utils.course import checks; checks.check_gram_matrix(gram_matrix)``.
"""

from __future__ import annotations

from .applications import check_detector_step, check_flicker, check_passcode_input
from .cyclegan import check_cycle_loss, check_identity_loss, check_image_pool, check_lsgan_discriminator_loss
from .dcgan import check_conditional_input, check_conv_transpose_output_size, check_dcgan_init
from .gan import (
    check_discriminator_loss,
    check_gaussian_nll,
    check_generator_loss_nonsaturating,
    check_mode_coverage,
    check_reparameterised_sample,
)
from .mode_collapse import check_gradient_penalty, check_minibatch_std, check_mode_histogram_kl, check_pack
from .perceptual import check_content_loss, check_gram_matrix, check_style_loss, check_total_variation
from .perceptual_reference import (
    PERCEPTUAL_REFERENCE,
    PERCEPTUAL_SEED,
    load_perceptual_reference,
    perceptual_reference_values,
    write_perceptual_reference,
)
from .pix2pix import (
    check_conditional_pair,
    check_patchgan_receptive_field,
    check_pix2pix_generator_loss,
    check_unet_skip,
)

__all__ = [
    "PERCEPTUAL_REFERENCE",
    "PERCEPTUAL_SEED",
    "check_conditional_input",
    "check_conditional_pair",
    "check_content_loss",
    "check_conv_transpose_output_size",
    "check_cycle_loss",
    "check_dcgan_init",
    "check_detector_step",
    "check_discriminator_loss",
    "check_flicker",
    "check_gaussian_nll",
    "check_generator_loss_nonsaturating",
    "check_gradient_penalty",
    "check_gram_matrix",
    "check_identity_loss",
    "check_image_pool",
    "check_lsgan_discriminator_loss",
    "check_minibatch_std",
    "check_mode_coverage",
    "check_mode_histogram_kl",
    "check_pack",
    "check_passcode_input",
    "check_patchgan_receptive_field",
    "check_pix2pix_generator_loss",
    "check_reparameterised_sample",
    "check_style_loss",
    "check_total_variation",
    "check_unet_skip",
    "load_perceptual_reference",
    "perceptual_reference_values",
    "write_perceptual_reference",
]
