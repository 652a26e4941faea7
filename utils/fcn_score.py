"""The FCN-score, rebuilt small: a segmentation net trained on real photos labels generated ones, and the scores the
pix2pix paper reports for it (per-pixel accuracy, per-class accuracy, class IoU; Long et al.'s definitions).

If a generated facade is realistic, a net that segments real facades should read the right labels off it. The net is
trained once on real (here: procedural) photos, frozen, and only then used to score generators.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import train, validate


class Segmenter(nn.Module):
    """A small fully convolutional segmenter: photos (N, 3, H, W) in [-1, 1] -> class logits (N, n_classes, H, W).

    A full-resolution stem (3x3 convs), a half-resolution trunk of dilated 3x3 convs (dilations 1, 2, 4, 8: it sees
    about 65 x 65 pixels), upsampled and joined with the stem's features, then a 1x1 convolution to the classes.
    """

    def __init__(self, n_classes: int = 12, width: int = 32) -> None:
        super().__init__()
        validate.positive_int(n_classes, "n_classes")
        validate.positive_int(width, "width")

        def block(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
            """3x3 conv (padding keeps the size, or halves it with stride 2), batch norm, ReLU."""
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, stride, dilation, dilation, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()
            )

        w = width
        self.stem = nn.Sequential(block(3, w), block(w, w))
        self.trunk = nn.Sequential(block(w, 2 * w, stride=2), *[block(2 * w, 2 * w, dilation=d) for d in (1, 2, 4, 8)])
        self.head = nn.Sequential(block(3 * w, w), nn.Conv2d(w, n_classes, 1))

    def forward(self, photos: Tensor) -> Tensor:
        validate.tensor(photos, "photos")
        if photos.dim() != 4 or photos.shape[1] != 3 or photos.shape[-1] % 2 or photos.shape[-2] % 2:
            raise ValueError(f"photos must have shape (N, 3, H, W) with even H and W, got {tuple(photos.shape)}")
        low = self.stem(photos)
        deep = F.interpolate(self.trunk(low), size=low.shape[-2:], mode="bilinear", align_corners=False)
        return self.head(torch.cat([deep, low], dim=1))


def segmenter(n_classes: int = 12, width: int = 32) -> Segmenter:
    """A fresh :class:`Segmenter`: photos (N, 3, H, W) -> logits (N, n_classes, H, W)."""
    return Segmenter(n_classes, width)


def train_segmenter(
    net: nn.Module,
    photos: Tensor,
    labels: Tensor,
    epochs: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    device: torch.device | None = None,
    desc: str = "segmenter",
) -> list[float]:
    """Train ``net`` on real photos (N, 3, H, W) and their class ids (N, H, W) with per-pixel cross-entropy (Adam);
    prints the wall time, leaves the net in eval mode and returns the mean loss of each epoch."""
    photos = validate.images(photos, "photos")
    labels = validate.tensor(labels, "labels")
    if labels.shape != (photos.shape[0], *photos.shape[-2:]) or labels.dtype != torch.int64:
        raise ValueError(
            f"labels must be int64 class ids (N, H, W) matching photos {tuple(photos.shape)}, "
            f"got {labels.dtype} {tuple(labels.shape)}"
        )
    dataset = torch.utils.data.TensorDataset(photos, labels)
    return train.train_classifier(net, dataset, epochs, batch_size=batch_size, lr=lr, device=device, desc=desc)


@torch.no_grad()
def segment(net: nn.Module, photos: Tensor, batch_size: int = 64) -> Tensor:
    """The class id of every pixel: photos (N, 3, H, W) -> (N, H, W) int64, the argmax of the logits in eval mode."""
    photos = validate.images(photos, "photos")
    validate.positive_int(batch_size, "batch_size")
    mode = net.training
    net.eval()
    dev = next(net.parameters()).device
    try:
        return torch.cat([net(chunk.to(dev)).argmax(1).cpu() for chunk in photos.split(batch_size)])
    finally:
        net.train(mode)


# >>> saved from notebooks/05_pix2pix.ipynb (edit it there, then run `make save`) >>>
def confusion_matrix(pred_ids: Tensor, true_ids: Tensor, n_classes: int) -> Tensor:
    """Counts (n_classes, n_classes) int64 over all pixels: entry [i, j] is the number of pixels of true class i
    predicted as class j; pred_ids and true_ids are integer tensors of one shape (e.g. (N, H, W))."""
    validate.tensor(pred_ids, "pred_ids")
    validate.tensor(true_ids, "true_ids")
    validate.positive_int(n_classes, "n_classes")
    if pred_ids.shape != true_ids.shape:
        raise ValueError(
            f"pred_ids and true_ids must have one shape, got {tuple(pred_ids.shape)} and {tuple(true_ids.shape)}"
        )
    for name, ids in (("pred_ids", pred_ids), ("true_ids", true_ids)):
        if ids.dtype.is_floating_point or ids.dtype == torch.bool:
            raise TypeError(f"{name} must hold integer class ids, got dtype {ids.dtype}")
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= n_classes):
            raise ValueError(
                f"{name} must hold class ids 0..{n_classes - 1}, got values in [{int(ids.min())}, {int(ids.max())}]"
            )
    flat = true_ids.reshape(-1).long() * n_classes + pred_ids.reshape(-1).long()
    return torch.bincount(flat, minlength=n_classes**2).reshape(n_classes, n_classes)


def fcn_scores(pred_ids: Tensor, true_ids: Tensor, n_classes: int) -> dict[str, float]:
    """The pix2pix paper's FCN-scores of predicted class ids against the true ones (integer tensors, e.g. (N, H, W)):
    ``per_pixel_acc`` = sum_i n_ii / sum_i t_i, ``per_class_acc`` = mean_i n_ii / t_i, ``class_iou`` = mean_i n_ii /
    (t_i + sum_j n_ji - n_ii), from one confusion matrix over all pixels (n_ij: true i read as j; t_i = sum_j n_ij).

    As in the FCN and pix2pix evaluation code, the class means skip classes whose ratio is 0/0 (nanmean): a class
    absent from the truth counts for accuracy never, for IoU only when it is predicted somewhere (then as 0).
    """
    hist = confusion_matrix(pred_ids, true_ids, n_classes).double()
    if hist.sum() == 0:
        raise ValueError("pred_ids and true_ids are empty: nothing to score")
    hit = hist.diag()
    class_acc = hit / hist.sum(1)
    iou = hit / (hist.sum(1) + hist.sum(0) - hit)
    return {
        "per_pixel_acc": float(hit.sum() / hist.sum()),
        "per_class_acc": float(class_acc.nanmean()),
        "class_iou": float(iou.nanmean()),
    }


# <<< end of the code saved from notebooks/05_pix2pix.ipynb <<<


def score_photos(net: nn.Module, photos: Tensor, true_ids: Tensor, n_classes: int = 12) -> dict[str, float]:
    """:func:`fcn_scores` of the net's reading of photos (N, 3, H, W) (real or generated) against labels (N, H, W)."""
    return fcn_scores(segment(net, photos), true_ids, n_classes)
