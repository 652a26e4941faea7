"""Video translation: the procedural scenes, the one-hot planes, the temporal sampler, translate_video and flicker."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from utils import pix2pix, video  # noqa: E402


def test_moving_scene_shapes_range_and_classes():
    labels, frames = video.moving_scene(n_frames=6, size=32, seed=3)
    assert labels.shape == (6, 32, 32) and labels.dtype == torch.int64
    assert frames.shape == (6, 3, 32, 32) and frames.dtype == torch.float32
    assert frames.min() >= -1 and frames.max() <= 1
    assert set(labels.unique().tolist()) <= set(range(video.N_VIDEO_CLASSES))
    assert {video.BALL, video.BOX} <= set(labels.unique().tolist())


def test_moving_scene_is_deterministic_by_seed():
    a, b, c = video.moving_scene(4, 32, 7), video.moving_scene(4, 32, 7), video.moving_scene(4, 32, 8)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])


def test_objects_move_and_the_background_stays():
    labels, frames = video.moving_scene(8, 32, 0)
    assert (labels[1:] != labels[:-1]).any(), "the ball and the box should move"
    static = ((labels == video.BALL) | (labels == video.BOX)).any(0).logical_not()  # never covered by an object
    assert static.sum() > 0.5 * 32 * 32
    assert torch.equal(frames[:, :, static], frames[:1, :, static].expand(8, -1, -1))


def test_the_texture_crop_differs_between_videos_with_the_same_layout_class():
    _, f0 = video.moving_scene(2, 32, 0)
    _, f1 = video.moving_scene(2, 32, 1)
    assert not torch.allclose(f0, f1)


def test_label_planes_one_hot_in_minus_one_one():
    labels = torch.tensor([[[0, 5], [2, 3]]])
    planes = video.label_planes(labels)
    assert planes.shape == (1, 6, 2, 2)
    assert set(planes.unique().tolist()) == {-1.0, 1.0}
    assert torch.equal((planes > 0).float().sum(1), torch.ones(1, 2, 2))
    assert planes[0, 5, 0, 1] == 1 and planes[0, 0, 0, 0] == 1


@pytest.mark.parametrize("bad", [torch.zeros(2, 2), torch.zeros(1, 2, 2), torch.full((1, 2, 2), 6)])
def test_label_planes_rejects_bad_labels(bad):
    with pytest.raises(ValueError):
        video.label_planes(bad)


def test_video_pairs_stacks_scenes_by_seed():
    labels, frames = video.video_pairs(2, 3, 32, seed=5)
    assert labels.shape == (2, 3, 32, 32) and frames.shape == (2, 3, 3, 32, 32)
    assert torch.equal(frames[1], video.moving_scene(3, 32, 6)[1])


def test_previous_frame_sampler_pairs_frame_t_with_frame_t_minus_1():
    labels, frames = video.video_pairs(2, 4, 32, seed=0)
    K = video.N_VIDEO_CLASSES
    a, b = video.previous_frame_sampler(labels, frames, noise=0.0, blank=0.0)(16)
    assert a.shape == (16, 2 * K + 3, 32, 32) and b.shape == (16, 3, 32, 32)
    flat, flat_labels = frames.flatten(0, 1), labels.flatten(0, 1)
    for ai, bi in zip(a, b):
        t = next(i for i in range(len(flat)) if torch.equal(flat[i], bi))
        assert torch.equal(ai[:K], video.label_planes(flat_labels[t : t + 1])[0])
        before = t if t % 4 == 0 else t - 1  # frame 0 of a video: its own planes and a blank
        assert torch.equal(ai[K : 2 * K], video.label_planes(flat_labels[before : before + 1])[0])
        prev = ai[2 * K :]
        assert torch.equal(prev, torch.zeros_like(prev)) if t % 4 == 0 else torch.equal(prev, flat[t - 1])
    a, _ = video.previous_frame_sampler(labels, frames, noise=0.0, blank=1.0)(4)
    assert torch.equal(a[:, 2 * K :], torch.zeros(4, 3, 32, 32))
    assert torch.equal(a[:, :K], a[:, K : 2 * K])


def test_temporal_generator_blends_the_previous_frame_with_its_painting():
    torch.manual_seed(0)
    g = video.temporal_generator(size=32, width=4).eval()
    a = torch.rand(2, 2 * video.N_VIDEO_CLASSES + 3, 32, 32) * 2 - 1
    raw = g.unet(a)
    mask = (raw[:, 3:] + 1) / 2
    assert torch.allclose(g(a), mask * a[:, -3:] + (1 - mask) * raw[:, :3])
    with pytest.raises(ValueError):
        g(torch.zeros(2, 3, 32, 32))


def test_previous_frame_sampler_rejects_mismatched_shapes():
    labels, frames = video.video_pairs(1, 3, 32)
    with pytest.raises(ValueError):
        video.previous_frame_sampler(labels[:, :2], frames)
    with pytest.raises(ValueError):
        video.previous_frame_sampler(labels, frames, blank=2.0)


def test_translate_video_shapes_for_both_models():
    labels, frames = video.moving_scene(3, 32, 0)
    planes = video.label_planes(labels)
    torch.manual_seed(0)
    per_frame = pix2pix.unet_generator(video.N_VIDEO_CLASSES, 3, 32, width=4)
    temporal = video.temporal_generator(size=32, width=4)
    out = video.translate_video(per_frame, planes, temporal=False)
    assert out.shape == (3, 3, 32, 32) and out.abs().max() <= 1
    out = video.translate_video(temporal, planes, temporal=True)
    assert out.shape == (3, 3, 32, 32)
    out2 = video.translate_video(temporal, planes, temporal=True, previous=frames[0])
    assert out2.shape == (3, 3, 32, 32) and not torch.equal(out, out2)
    assert torch.equal(
        video.translate_video(per_frame, planes, temporal=False),
        video.translate_video(per_frame, planes, temporal=False),
    ), "eval mode without dropout repeats"


def test_translate_video_is_autoregressive():
    labels, _ = video.moving_scene(3, 32, 0)
    planes = video.label_planes(labels)
    torch.manual_seed(0)
    g = video.temporal_generator(size=32, width=4)
    out = video.translate_video(g, planes, temporal=True)
    first = pix2pix.translate(
        g, torch.cat([planes[0:1], planes[0:1], torch.zeros(1, 3, 32, 32)], 1), dropout=False, batch_stats=False
    )
    assert torch.allclose(out[0:1], first, atol=1e-6)
    again = pix2pix.translate(g, torch.cat([planes[1:2], planes[0:1], out[0:1]], 1), dropout=False, batch_stats=False)
    assert torch.allclose(out[1:2], again, atol=1e-6)


def test_translate_video_rejects_bad_input():
    g = video.temporal_generator(size=32, width=4)
    planes = video.label_planes(video.moving_scene(2, 32, 0)[0])
    with pytest.raises(ValueError):
        video.translate_video(g, planes[0], temporal=True)
    with pytest.raises(ValueError):
        video.translate_video(g, planes, temporal=True, previous=torch.zeros(3, 16, 16))


def test_flicker_of_the_true_video_is_near_zero_and_a_foreign_frame_is_not():
    labels, frames = video.moving_scene(8, 32, 0)
    assert video.flicker(frames, labels) < 0.02
    _, other = video.moving_scene(8, 32, 1)
    broken = frames.clone()
    broken[4] = other[4]
    assert video.flicker(broken, labels) > 5 * video.flicker(frames, labels)
    noisy = frames + 0.1 * torch.randn_like(frames)
    assert video.flicker(noisy, labels) > 0.08


def test_flicker_by_hand():
    labels = torch.zeros(3, 1, 2, dtype=torch.int64)
    labels[1, 0, 1] = 1  # pixel (0, 1) changes its label at t = 1 and back at t = 2: it is left out of both pairs
    frames = torch.zeros(3, 2, 1, 2)
    frames[1, 0] = 0.4  # channel 0 of frame 1 steps by 0.4, channel 1 does not
    frames[2, :, 0, 1] = 9.0  # a changed-label pixel: ignored
    # pairs (0, 1) and (1, 2) at pixel (0, 0): channel means 0.2 and 0.2 -> 0.2
    assert video.flicker(frames, labels) == pytest.approx(0.2)


@pytest.mark.parametrize(
    "frames, labels",
    [
        (torch.zeros(1, 3, 4, 4), torch.zeros(1, 4, 4, dtype=torch.int64)),
        (torch.zeros(2, 3, 4, 4), torch.zeros(2, 4, 5, dtype=torch.int64)),
        (torch.zeros(2, 4, 4), torch.zeros(2, 4, 4, dtype=torch.int64)),
    ],
)
def test_flicker_rejects_bad_shapes(frames, labels):
    with pytest.raises(ValueError):
        video.flicker(frames, labels)


def test_flicker_without_unchanged_pixels_raises():
    labels = torch.stack([torch.zeros(2, 2), torch.ones(2, 2)]).long()
    with pytest.raises(ValueError):
        video.flicker(torch.zeros(2, 3, 2, 2), labels)


def test_filmstrip_and_animation():
    _, frames = video.moving_scene(4, 32, 0)
    fig = video.filmstrip({"a": frames, "b": frames}, steps=(0, 2, 9))
    assert len(fig.axes) == 4  # frame 9 does not exist: left out
    plt.close(fig)
    anim = video.animate({"a": frames, "b": frames}, fps=4)
    html = anim.to_jshtml()
    assert "<img" in html or "img" in html
    with pytest.raises(ValueError):
        video.animate({"a": frames, "b": frames[:2]})
    with pytest.raises(ValueError):
        video.filmstrip({})
