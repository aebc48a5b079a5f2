"""Serving backends behind one interface: the discrete-event simulator (default), a local executor of
real PyTorch models, and (later) Ray Serve. The adapter never knows which one it drives."""

from __future__ import annotations

from ipa_energy.backends.base import (
    Backend,
    Clock,
    PipelineConfig,
    SecondRecord,
    StageConfig,
)
from ipa_energy.registry import Registry

BACKENDS: Registry[type[Backend]] = Registry(
    "backend",
    {
        "sim": "ipa_energy.backends.simulator.backend:SimulatorBackend",
        "local": "ipa_energy.backends.local.backend:LocalBackend",
    },
)

__all__ = ["BACKENDS", "Backend", "Clock", "PipelineConfig", "SecondRecord", "StageConfig"]
