"""How a worker process finds and runs one model variant.

A :class:`ModelSpec` is a small picklable value (family, variant, cache dir) sent to worker processes;
:func:`load_runner` builds the model there. A :class:`Runner` maps a batch (numpy, batch dimension first)
to a batch of outputs, which the router hands to the next stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from ipa_energy.registry import Registry


@dataclass(frozen=True)
class ModelSpec:
    #: model family, a name in :data:`FAMILIES` ("digits", "torchvision", "unet", "sam")
    family: str
    #: variant name inside the family (e.g. "digits-loc-s", "resnet18")
    variant: str
    #: cache / weights directory; None = the default cache (see :mod:`ipa_energy.models.cache`)
    cache_dir: str | None = None
    #: input side in pixels for image models that accept several (torchvision); None = the family default
    image_size: int | None = None


class Runner(Protocol):
    """A loaded model. ``weights`` says where the weights came from ("trained:...", "random-init", ...)."""

    weights: str

    def run(self, inputs: NDArray[np.float32]) -> NDArray[np.generic]: ...


class Family(Protocol):
    """One model family: its variants, a one-time preparation step (train/check), and loading."""

    def variants(self) -> tuple[str, ...]: ...

    def prepare(self, spec: ModelSpec) -> None: ...

    def load(self, spec: ModelSpec) -> Runner: ...


FAMILIES: Registry[Family] = Registry(
    "model family",
    {
        "digits": "ipa_energy.models.digits:FAMILY",
        "torchvision": "ipa_energy.models.vision:FAMILY",
        "unet": "ipa_energy.models.segment.unet:FAMILY",
        "sam": "ipa_energy.models.segment.sam:FAMILY",
    },
)


def prepare(spec: ModelSpec) -> None:
    """Make the model loadable (train and cache digits models; nothing to do for random-init ones)."""
    FAMILIES.get(spec.family).prepare(spec)


def load_runner(spec: ModelSpec) -> Runner:
    """Build the model of ``spec`` in this process (imports torch)."""
    return FAMILIES.get(spec.family).load(spec)
