"""Serving backends behind one interface: the discrete-event simulator (default), a local executor of
real PyTorch models, and Ray Serve (``ray``: the ``ray`` extra). The adapter never knows which one it drives."""

from __future__ import annotations

from collections.abc import Callable

from ipa_energy.backends.base import (
    Backend,
    BackendContext,
    Clock,
    PipelineConfig,
    SecondRecord,
    StageConfig,
    StopRequested,
)
from ipa_energy.registry import Registry

#: backend name -> builder ``(ctx: BackendContext) -> Backend``; ``BACKENDS.create(name, ctx=ctx)``.
#: Adding a backend is one module with a builder and one line here.
BACKENDS: Registry[Callable[..., Backend]] = Registry(
    "backend",
    {
        "sim": "ipa_energy.backends.simulator.build:build_simulator",
        "local": "ipa_energy.backends.local.build:build_local",
        "ray": "ipa_energy.backends.ray.build:build_ray",
    },
)

__all__ = [
    "BACKENDS", "Backend", "BackendContext", "Clock", "PipelineConfig", "SecondRecord", "StageConfig",
    "StopRequested",
]
