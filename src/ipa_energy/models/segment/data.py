"""Segmentation ground truth that ships offline: the stardist nuclei image and synthetic scenes.

* **Nuclei** (``data/nuclei2d.npz``, provenance in ``data/README.md``): a 512 x 512 fluorescence image
  with 125 labelled nuclei from the 2018 Data Science Bowl (BBBC038), as the ``stardist`` package ships it.
  Split by rows, fixed: rows 0-191 train, rows 192-255 validation, rows 256-511 test (held out; never seen
  in training or when choosing settings). Nuclei cut by a split line count as instances of both parts.
* **Synthetic scenes**: non-overlapping shapes from ``skimage.draw.random_shapes`` (one shape per call, so
  every mask is exact) rendered as bright blobs on a dark, noisy, blurred background. Training scenes use
  seeds below :data:`TEST_SEED0`; held-out scenes use seeds from it.

Images are float32, normalised by their 1st and 99.8th percentiles (as stardist does); label images are
int32 (0 = background). numpy, scipy and scikit-image only (no torch).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import ConfigError

TRAIN_ROWS = (0, 192)
VAL_ROWS = (192, 256)
TEST_ROWS = (256, 512)
#: every scene (nuclei test half and synthetic) has this shape, so requests batch together
SCENE_SHAPE = (256, 512)
TEST_SEED0 = 1_000_000
SHAPE_SIZE_PX = (12, 30)


@dataclass(frozen=True)
class Scene:
    name: str
    image: NDArray[np.float32]  # (H, W), normalised
    labels: NDArray[np.int32]  # (H, W), 0 = background


def normalize(image: NDArray[np.generic]) -> NDArray[np.float32]:
    x = np.asarray(image, dtype=np.float32)
    lo, hi = np.percentile(x, (1.0, 99.8))
    return ((x - lo) / max(float(hi - lo), 1e-6)).astype(np.float32)


def nuclei() -> tuple[NDArray[np.float32], NDArray[np.int32]]:
    """The whole nuclei image (normalised) and its label image."""
    with resources.files("ipa_energy.models.segment").joinpath("data/nuclei2d.npz").open("rb") as f, np.load(f) as d:
        return normalize(d["image"]), d["labels"].astype(np.int32)


def _rows(part: str) -> tuple[int, int]:
    try:
        return {"train": TRAIN_ROWS, "val": VAL_ROWS, "test": TEST_ROWS}[part]
    except KeyError:
        raise ConfigError(f"unknown part {part!r}; valid: train, val, test", field="part") from None


def nuclei_part(part: str) -> Scene:
    """Rows of the nuclei image for ``part`` ("train", "val", "test"); labels relabelled 1..n."""
    from skimage.segmentation import relabel_sequential

    img, lab = nuclei()
    r0, r1 = _rows(part)
    seq = relabel_sequential(lab[r0:r1])[0].astype(np.int32)
    return Scene(f"nuclei-{part}", img[r0:r1], seq)


def synthetic_scene(seed: int, shape: tuple[int, int] = SCENE_SHAPE, max_shapes: int | None = None) -> Scene:
    """A scene of non-overlapping random shapes with exact masks (deterministic in ``seed``)."""
    from scipy.ndimage import binary_dilation, gaussian_filter
    from skimage.draw import random_shapes

    rng = np.random.default_rng(seed)
    h, w = shape
    n_target = max_shapes or int(rng.integers(h * w // 2500, h * w // 1200 + 1))
    labels = np.zeros(shape, dtype=np.int32)
    intensity = np.zeros(shape, dtype=np.float32)
    k = 0
    for _ in range(n_target * 3):
        if k >= n_target:
            break
        img, _ = random_shapes(
            shape, max_shapes=1, min_size=SHAPE_SIZE_PX[0], max_size=SHAPE_SIZE_PX[1], channel_axis=None,
            intensity_range=(0, 0), rng=int(rng.integers(0, 2**31 - 1)), allow_overlap=False,
        )
        mask = img == 0
        if not mask.any():
            continue
        # keep a one-pixel gap to earlier shapes, so instances never touch (checked in the shape's box)
        rr, cc = np.nonzero(mask)
        r0, r1, c0, c1 = max(rr.min() - 1, 0), rr.max() + 2, max(cc.min() - 1, 0), cc.max() + 2
        if (binary_dilation(mask[r0:r1, c0:c1]) & (labels[r0:r1, c0:c1] > 0)).any():
            continue
        k += 1
        labels[mask] = k
        intensity[mask] = rng.uniform(0.35, 1.0)
    image = gaussian_filter(intensity, sigma=1.0) + rng.normal(0.0, 0.06, size=shape).astype(np.float32)
    return Scene(f"synthetic-{seed}", normalize(image), labels)


def test_scenes(n: int) -> list[Scene]:
    """The held-out scenes a benchmark uses: the nuclei test half first, then held-out synthetic scenes."""
    if n < 1:
        raise ConfigError(f"must be >= 1 (got {n})", field="images")
    scenes = [nuclei_part("test")]
    scenes += [synthetic_scene(TEST_SEED0 + i) for i in range(n - 1)]
    return scenes


def seed_points(labels: NDArray[np.integer]) -> NDArray[np.int64]:
    """One (row, col) point per instance, inside it: the instance pixel nearest its centroid (the
    seed-point prompt mode). Rows follow the instance ids in increasing order."""
    from scipy.ndimage import center_of_mass

    ids = [int(i) for i in np.unique(labels) if i > 0]
    out = np.zeros((len(ids), 2), dtype=np.int64)
    for j, (i, c) in enumerate(zip(ids, center_of_mass(labels > 0, labels, ids), strict=True)):
        rr, cc = np.nonzero(labels == i)
        k = int(np.argmin((rr - c[0]) ** 2 + (cc - c[1]) ** 2))
        out[j] = (rr[k], cc[k])
    return out


def as_request(scene: Scene) -> NDArray[np.float32]:
    """The model input of a scene: channel 0 the image, channel 1 the seed-point prompts (1 at one pixel
    per ground-truth instance, as a user clicking each object would give). U-Nets read channel 0 only."""
    prompts = np.zeros_like(scene.image)
    pts = seed_points(scene.labels)
    prompts[pts[:, 0], pts[:, 1]] = 1.0
    return np.stack([scene.image, prompts]).astype(np.float32)
