"""Request inputs: real held-out data where the pipeline has a dataset, random images otherwise.

A source may define ``score(output, label) -> float`` in [0, 1] (segmentation: IoU); without one a
request scores 1 when its output equals its label (classification)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ipa_energy.registry import Registry


class DigitsInputs:
    """Held-out digits canvases (never seen in training) with their labels, drawn in a seeded order."""

    def __init__(self, seed: int = 0) -> None:
        from ipa_energy.models.digits_data import held_out_canvases

        c = held_out_canvases()
        self.canvases: NDArray[np.float32] = c.canvases
        self.labels: NDArray[np.int64] = c.labels
        self._order = np.random.default_rng(seed).integers(0, len(self.labels), size=1 << 16)

    def get(self, i: int) -> tuple[Any, int | None]:
        j = int(self._order[i % len(self._order)])
        return self.canvases[j], int(self.labels[j])


class SegmentInputs:
    """Held-out segmentation scenes (the nuclei test rows, then held-out synthetic scenes), each a
    (2, H, W) request (image + seed-point prompts) labelled with its ground-truth label image; a request's
    score is its matched mean IoU (:func:`ipa_energy.models.segment.iou.instance_iou`)."""

    def __init__(self, seed: int = 0, scenes: int = 3) -> None:
        from ipa_energy.models.segment.data import as_request, test_scenes

        chosen = test_scenes(scenes)
        self.requests = [as_request(s) for s in chosen]
        self.labels = [s.labels for s in chosen]
        self._order = np.random.default_rng(seed).integers(0, len(chosen), size=1 << 16)

    def get(self, i: int) -> tuple[Any, Any]:
        j = int(self._order[i % len(self._order)])
        return self.requests[j], self.labels[j]

    @staticmethod
    def score(output: Any, label: Any) -> float:
        from ipa_energy.models.segment.iou import instance_iou

        return instance_iou(output, label).mean_iou


class RandomImageInputs:
    """Random RGB images in [0, 1] (for models with no dataset here); unlabelled, so accuracy is None."""

    def __init__(self, seed: int = 0, size_px: int = 224, pool: int = 16) -> None:
        rng = np.random.default_rng(seed)
        self.images = rng.random((pool, 3, size_px, size_px), dtype=np.float32)

    def get(self, i: int) -> tuple[Any, int | None]:
        return self.images[i % len(self.images)], None


#: an input source: ``get(i)`` is request i's payload and label (None when unlabelled)
InputSourceT = DigitsInputs | RandomImageInputs | SegmentInputs
#: model family of a pipeline's first stage -> its input source class
INPUT_SOURCES: Registry[Callable[..., InputSourceT]] = Registry(
    "input source",
    {
        "digits": "ipa_energy.loadgen.inputs:DigitsInputs",
        "torchvision": "ipa_energy.loadgen.inputs:RandomImageInputs",
        "unet": "ipa_energy.loadgen.inputs:SegmentInputs",
        "sam": "ipa_energy.loadgen.inputs:SegmentInputs",
    },
)


def inputs_for(family: str, seed: int = 0, image_px: int | None = None) -> InputSourceT:
    """The input source registered for a model family's first stage; ``image_px`` sizes generated images
    (an option only image sources take)."""
    config: dict[str, Any] = {"seed": seed}
    if image_px is not None:
        config["size_px"] = image_px
    source: InputSourceT = INPUT_SOURCES.create(family, field="family", **config)
    return source
