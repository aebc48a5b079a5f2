"""Intersection over union of label images, written once.

A label image is a 2-D integer array: 0 is background, each k > 0 one instance. IoU of two masks is
|A and B| / |A or B| (so always in [0, 1]). Ground-truth instances are matched one-to-one to predicted
instances so that the sum of matched IoUs is largest (Hungarian assignment on the IoU matrix); a
ground-truth instance left without a partner, or matched with IoU 0, scores 0. ``mean_iou`` is the mean
over ground-truth instances; ``foreground_iou`` compares the two binary foregrounds (label > 0). Label ids
need not agree between prediction and truth: only the pixel sets matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import ConfigError


@dataclass(frozen=True)
class IoUResult:
    #: mean over ground-truth instances of the IoU with its matched prediction (0 when unmatched)
    mean_iou: float
    #: IoU of the binary foregrounds (pred > 0 vs gt > 0)
    foreground_iou: float
    #: ground-truth instances
    instances: int
    #: ground-truth instances matched to a prediction with IoU > 0
    matched: int
    #: predicted instances
    predicted: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "mean_iou": self.mean_iou, "foreground_iou": self.foreground_iou, "instances": self.instances,
            "matched": self.matched, "predicted": self.predicted,
        }


def _labels(a: object, field: str) -> NDArray[np.int64]:
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise ConfigError(f"a label image must be 2-D (got shape {arr.shape})", field=field)
    if arr.size == 0:
        raise ConfigError("the label image is empty (no pixels)", field=field)
    if arr.dtype == bool:
        return arr.astype(np.int64)
    integral = np.issubdtype(arr.dtype, np.integer) or (
        np.issubdtype(arr.dtype, np.floating) and bool(np.all(np.isfinite(arr))) and not np.any(arr != np.round(arr))
    )
    if not integral:
        raise ConfigError(f"labels must be integers (got dtype {arr.dtype} with fractional values)", field=field)
    out = arr.astype(np.int64)
    if out.min() < 0:
        raise ConfigError(f"labels must be >= 0 (0 = background; got {int(out.min())})", field=field)
    return out


def _pair(pred: object, gt: object) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    p, g = _labels(pred, "pred"), _labels(gt, "gt")
    if p.shape != g.shape:
        raise ConfigError(f"size mismatch: prediction {p.shape} vs ground truth {g.shape}", field="pred")
    return p, g


def _ratio(inter: float, union: float) -> float:
    # inter <= union by construction; an empty union (both empty) is a perfect agreement
    return 1.0 if union == 0 else inter / union


def iou_matrix(pred: object, gt: object) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """IoU between every ground-truth instance (rows) and predicted instance (columns), with their ids."""
    p, g = _pair(pred, gt)
    g_ids, g_inv = np.unique(g, return_inverse=True)
    p_ids, p_inv = np.unique(p, return_inverse=True)
    # joint histogram of (gt id, pred id) over pixels, background included at index 0 when present
    joint = np.zeros((len(g_ids), len(p_ids)), dtype=np.int64)
    np.add.at(joint, (g_inv.ravel(), p_inv.ravel()), 1)
    g_sizes, p_sizes = joint.sum(axis=1), joint.sum(axis=0)
    gi, pi = g_ids > 0, p_ids > 0
    inter = joint[np.ix_(gi, pi)].astype(np.float64)
    union = g_sizes[gi][:, None] + p_sizes[pi][None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    return iou, g_ids[gi], p_ids[pi]


def match_instances(pred: object, gt: object) -> list[tuple[int, int, float]]:
    """One-to-one matches ``(gt_id, pred_id, iou)`` maximising the summed IoU; only pairs with IoU > 0."""
    from scipy.optimize import linear_sum_assignment

    iou, g_ids, p_ids = iou_matrix(pred, gt)
    if iou.size == 0:
        return []
    rows, cols = linear_sum_assignment(iou, maximize=True)
    return [(int(g_ids[r]), int(p_ids[c]), float(iou[r, c])) for r, c in zip(rows, cols, strict=True) if iou[r, c] > 0]


def foreground_iou(pred: object, gt: object) -> float:
    """IoU of the binary foregrounds; 1.0 when both are all background."""
    p, g = _pair(pred, gt)
    pf, gf = p > 0, g > 0
    return _ratio(float(np.count_nonzero(pf & gf)), float(np.count_nonzero(pf | gf)))


def instance_iou(pred: object, gt: object) -> IoUResult:
    """Matched mean IoU over ground-truth instances and the foreground IoU. Ground truth without any
    instance raises: a mean over no instances is undefined, not 0 or 1."""
    p, g = _pair(pred, gt)
    iou, g_ids, p_ids = iou_matrix(p, g)
    if len(g_ids) == 0:
        raise ConfigError("the ground truth has no instances (all background): mean IoU is undefined", field="gt")
    matches = match_instances(p, g)
    total = float(np.sum([m[2] for m in matches])) if matches else 0.0
    return IoUResult(
        mean_iou=total / len(g_ids), foreground_iou=foreground_iou(p, g), instances=int(len(g_ids)),
        matched=len(matches), predicted=int(len(p_ids)),
    )


def mean_result(results: list[IoUResult]) -> IoUResult:
    """Pool several images: mean IoU weighted by instances (i.e. over all ground-truth instances);
    foreground IoU averaged per image."""
    if not results:
        raise ConfigError("no images to pool", field="images")
    n = sum(r.instances for r in results)
    return IoUResult(
        mean_iou=float(sum(r.mean_iou * r.instances for r in results) / n),
        foreground_iou=float(np.mean([r.foreground_iou for r in results])),
        instances=n, matched=sum(r.matched for r in results), predicted=sum(r.predicted for r in results),
    )


def read_label_image(path: str) -> NDArray[np.int64]:
    """A label image from a .npy file or a .png (8/16-bit, single channel)."""
    from pathlib import Path

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"no such file: {path}", field="path")
    suffix = p.suffix.lower()
    if suffix == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except ValueError as e:
            raise ConfigError(f"{path}: not a numpy array file ({e})", field="path") from e
    elif suffix == ".png":
        from PIL import Image

        with Image.open(p) as im:
            arr = np.asarray(im)
        if arr.ndim == 3:
            raise ConfigError(f"{path}: a label PNG must have one channel (got {arr.shape[2]})", field="path")
    else:
        raise ConfigError(f"{path}: expected a .npy or .png label image", field="path")
    return _labels(arr, path)


__all__ = [
    "IoUResult", "foreground_iou", "instance_iou", "iou_matrix", "match_instances", "mean_result",
    "read_label_image",
]
