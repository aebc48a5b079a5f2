"""The ``sam`` family: Segment Anything ViT-B / ViT-L / ViT-H from the ``segment-anything`` package.

Models are built by ``segment_anything.sam_model_registry`` at the package's 1024 x 1024 input. Weights
come from a checkpoint file: an explicit path or directory, else ``<cache>/sam/`` (see
:mod:`ipa_energy.models.cache`), under the official file names (:data:`CHECKPOINT_FILES`) or
``sam_vit_b.pth`` etc. Without one the model is **random-init**: its latency and energy are real, its
masks are meaningless, and every output says so (``weights = "random-init"``; no IoU is reported).

Prompting: ``points`` (the seed-point mode: one positive point per object, read from channel 1 of the
request; the most confident of SAM's three masks is kept) or ``auto`` (``SamAutomaticMaskGenerator``).
Masks become a label image: the highest-scoring mask claims a pixel first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import BackendError, ConfigError
from ipa_energy.models.cache import cache_dir
from ipa_energy.models.spec import ModelSpec

if TYPE_CHECKING:
    import torch

#: variant -> segment_anything registry key
REGISTRY_KEYS = {"sam-vit-b": "vit_b", "sam-vit-l": "vit_l", "sam-vit-h": "vit_h"}
#: the official checkpoint file names (segment-anything README)
CHECKPOINT_FILES = {"sam-vit-b": "sam_vit_b_01ec64.pth", "sam-vit-l": "sam_vit_l_0b3195.pth",
                    "sam-vit-h": "sam_vit_h_4b8939.pth"}
#: a directory holding checkpoints, overriding the cache (one home for this setting)
CHECKPOINT_ENV = "IPA_ENERGY_SAM_CHECKPOINT_DIR"
MODES = ("points", "auto")
#: automatic mask generator grid (the package default is 32 x 32 = 1024 prompts; 16 x 16 keeps CPU runs short)
AUTO_POINTS_PER_SIDE = 16


def _key(variant: str) -> str:
    try:
        return REGISTRY_KEYS[variant]
    except KeyError:
        valid = ", ".join(REGISTRY_KEYS)
        raise ConfigError(f"unknown SAM variant {variant!r}; valid: {valid}", field="variant") from None


def find_checkpoint(variant: str, *, checkpoint: str | None = None, cache: str | None = None) -> Path | None:
    """The checkpoint file of ``variant``, or None (random init). ``checkpoint`` may be a file or a
    directory; a given path that does not exist is an error, never a silent random init."""
    _key(variant)
    names = (CHECKPOINT_FILES[variant], f"sam_{REGISTRY_KEYS[variant]}.pth")
    if checkpoint is not None:
        p = Path(checkpoint).expanduser()
        if p.is_file():
            return p
        if p.is_dir():
            for n in names:
                if (p / n).is_file():
                    return p / n
            raise ConfigError(f"no {variant} checkpoint ({' or '.join(names)}) in {p}", field="checkpoint")
        raise ConfigError(f"no such file or directory: {p}", field="checkpoint")
    dirs = [Path(os.environ[CHECKPOINT_ENV]).expanduser()] if os.environ.get(CHECKPOINT_ENV) else []
    dirs.append(cache_dir(cache) / "sam")
    for d in dirs:
        for n in names:
            if (d / n).is_file():
                return d / n
    return None


@dataclass(frozen=True)
class SamConfig:
    variant: str
    mode: str = "points"
    checkpoint: str | None = None
    cache: str | None = None


def build(cfg: SamConfig) -> tuple[Any, str]:
    """(Sam model in eval mode, weights label: "checkpoint:<file>" or "random-init")."""
    _key(cfg.variant)
    if cfg.mode not in MODES:
        raise ConfigError(f"unknown SAM mode {cfg.mode!r}; valid: {', '.join(MODES)}", field="mode")
    try:
        from segment_anything import sam_model_registry
    except ImportError as e:
        raise BackendError("SAM needs the segment-anything package: pip install 'ipa-energy[segment]'") from e
    path = find_checkpoint(cfg.variant, checkpoint=cfg.checkpoint, cache=cfg.cache)
    model = sam_model_registry[REGISTRY_KEYS[cfg.variant]](checkpoint=None if path is None else str(path))
    model.eval()
    return model, ("random-init" if path is None else f"checkpoint:{path.name}")


def to_rgb(image: NDArray[np.floating]) -> NDArray[np.uint8]:
    """A normalised grey image as the uint8 RGB image SAM expects."""
    g = (np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0) * 255).astype(np.uint8)
    return np.repeat(g[:, :, None], 3, axis=2)


def masks_to_labels(masks: NDArray[np.bool_], scores: NDArray[np.floating]) -> NDArray[np.int32]:
    """(K, H, W) masks -> label image; higher score claims a pixel first; empty masks give no instance."""
    out = np.zeros(masks.shape[1:], dtype=np.int32)
    k = 0
    for i in np.argsort(-np.asarray(scores), kind="stable"):
        free = masks[i] & (out == 0)
        if free.any():
            k += 1
            out[free] = k
    return out


class SamRunner:
    """(N, 2, H, W) requests (channel 0 image, channel 1 seed points) -> (N, H, W) label images."""

    def __init__(self, model: Any, cfg: SamConfig, weights: str) -> None:
        from segment_anything import SamAutomaticMaskGenerator, SamPredictor

        self.cfg = cfg
        self.weights = weights
        self.predictor = SamPredictor(model)
        self.generator = (
            SamAutomaticMaskGenerator(model, points_per_side=AUTO_POINTS_PER_SIDE) if cfg.mode == "auto" else None
        )

    def _points(self, rgb: NDArray[np.uint8], seeds: NDArray[np.int64]) -> NDArray[np.int32]:
        import torch

        self.predictor.set_image(rgb)
        if len(seeds) == 0:
            return np.zeros(rgb.shape[:2], dtype=np.int32)
        xy = torch.as_tensor(seeds[:, ::-1].copy(), dtype=torch.float32)[:, None, :]  # (K, 1, 2) as (x, y)
        coords = self.predictor.transform.apply_coords_torch(xy, rgb.shape[:2])
        masks, scores, _ = self.predictor.predict_torch(
            coords, torch.ones(len(seeds), 1, dtype=torch.int64), multimask_output=True
        )
        best = scores.argmax(dim=1)
        idx = torch.arange(len(seeds))
        return masks_to_labels(masks[idx, best].numpy(), scores[idx, best].numpy())

    def _auto(self, rgb: NDArray[np.uint8]) -> NDArray[np.int32]:
        assert self.generator is not None
        found = self.generator.generate(rgb)
        if not found:
            return np.zeros(rgb.shape[:2], dtype=np.int32)
        masks = np.stack([m["segmentation"] for m in found])
        return masks_to_labels(masks, np.array([m["predicted_iou"] for m in found]))

    def run(self, inputs: NDArray[np.float32]) -> NDArray[np.generic]:
        import torch

        x = np.asarray(inputs, dtype=np.float32)
        out = []
        with torch.inference_mode():
            for req in x:
                rgb = to_rgb(req[0])
                if self.cfg.mode == "auto":
                    out.append(self._auto(rgb))
                else:
                    seeds = np.argwhere(req[1] > 0.5) if len(req) > 1 else np.zeros((0, 2), dtype=np.int64)
                    out.append(self._points(rgb, seeds))
        return np.stack(out)


def load(cfg: SamConfig) -> SamRunner:
    model, weights = build(cfg)
    return SamRunner(model, cfg, weights)


class SamFamily:
    def variants(self) -> tuple[str, ...]:
        return tuple(REGISTRY_KEYS)

    def prepare(self, spec: ModelSpec) -> None:
        _key(spec.variant)

    def load(self, spec: ModelSpec) -> SamRunner:
        return load(SamConfig(spec.variant, cache=spec.cache_dir))


FAMILY = SamFamily()


def params(model: torch.nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))
