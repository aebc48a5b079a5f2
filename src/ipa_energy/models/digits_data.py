"""The ``digits`` task data: scikit-learn's bundled 8x8 handwritten digits placed on a larger noisy canvas.

Stage 1 (locate) sees a ``CANVAS_PX`` x ``CANVAS_PX`` canvas with one digit at an unknown position and
Gaussian noise everywhere, and must find the digit's 8x8 box; stage 2 (classify) sees the crop cut at the
box stage 1 found. The split into training and held-out digits is fixed by a seed, so accuracy measured
on held-out canvases never sees a digit used in training. numpy and scikit-learn only (no torch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

CANVAS_PX = 32
DIGIT_PX = 8
#: positions per axis a digit's top-left corner can take
POSITIONS = CANVAS_PX - DIGIT_PX + 1
NOISE_STD = 0.35
SPLIT_SEED = 0
HELD_OUT_FRACTION = 0.3


@dataclass(frozen=True)
class DigitsSplit:
    train_images: NDArray[np.float32]  # (N, 8, 8) in [0, 1]
    train_labels: NDArray[np.int64]
    test_images: NDArray[np.float32]
    test_labels: NDArray[np.int64]


@dataclass(frozen=True)
class Canvases:
    canvases: NDArray[np.float32]  # (N, CANVAS_PX, CANVAS_PX)
    #: top-left corner (row, col) of each digit's box
    boxes: NDArray[np.int64]  # (N, 2)
    labels: NDArray[np.int64]  # (N,)


def load_split(seed: int = SPLIT_SEED) -> DigitsSplit:
    """sklearn's digits (1797 images) split 70/30 into training and held-out, stratified by label."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    images = (d.images / 16.0).astype(np.float32)
    labels = d.target.astype(np.int64)
    tr_x, te_x, tr_y, te_y = train_test_split(
        images, labels, test_size=HELD_OUT_FRACTION, random_state=seed, stratify=labels
    )
    return DigitsSplit(tr_x, tr_y, te_x, te_y)


def place_on_canvas(
    images: NDArray[np.float32], labels: NDArray[np.int64], rng: np.random.Generator, copies: int = 1
) -> Canvases:
    """Each image ``copies`` times at a uniformly random position on a noisy canvas."""
    imgs = np.repeat(images, copies, axis=0)
    labs = np.repeat(labels, copies, axis=0)
    n = len(imgs)
    boxes = rng.integers(0, POSITIONS, size=(n, 2))
    canvases = rng.normal(0.0, NOISE_STD, size=(n, CANVAS_PX, CANVAS_PX)).astype(np.float32)
    for i in range(n):
        r, c = boxes[i]
        canvases[i, r : r + DIGIT_PX, c : c + DIGIT_PX] += imgs[i]
    return Canvases(canvases, boxes.astype(np.int64), labs)


def crop(canvases: NDArray[np.float32], boxes: NDArray[np.int64]) -> NDArray[np.float32]:
    """The 8x8 crops at ``boxes`` (row, col), clipped to the canvas."""
    out = np.empty((len(canvases), DIGIT_PX, DIGIT_PX), dtype=np.float32)
    for i in range(len(canvases)):
        r = int(np.clip(boxes[i, 0], 0, POSITIONS - 1))
        c = int(np.clip(boxes[i, 1], 0, POSITIONS - 1))
        out[i] = canvases[i, r : r + DIGIT_PX, c : c + DIGIT_PX]
    return out


def box_iou(a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.float64]:
    """Intersection over union of 8x8 boxes given by their top-left corners (row, col)."""
    overlap = np.clip(DIGIT_PX - np.abs(a - b), 0, None).prod(axis=1).astype(np.float64)
    union = 2.0 * DIGIT_PX * DIGIT_PX - overlap
    return overlap / union


def held_out_canvases(copies: int = 2, seed: int = SPLIT_SEED + 1) -> Canvases:
    """The fixed held-out canvases used to measure accuracy and to feed the load generator."""
    split = load_split()
    return place_on_canvas(split.test_images, split.test_labels, np.random.default_rng(seed), copies)
