"""Helpers for the simulator tests (imported by the test files beside it): tiny hand-checkable stages."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ipa_energy.backends.base import PipelineConfig, StageConfig
from ipa_energy.backends.simulator.backend import SimParams, SimulatorBackend
from ipa_energy.optimize.problem import ProfilePoint, Stage, Variant


def variant(
    name: str, points: Sequence[tuple[int, float, float]], *, accuracy: float = 0.5, cores: int = 1
) -> Variant:
    return Variant(name, accuracy, cores, tuple(ProfilePoint(b, lat, e) for b, lat, e in points))


def config(*stages: tuple[str, int, int]) -> PipelineConfig:
    return PipelineConfig(tuple(StageConfig(v, b, n) for v, b, n in stages))


def make_sim(
    stages: Sequence[Stage],
    arrivals: Sequence[float] | np.ndarray,
    initial: PipelineConfig | None,
    *,
    sla_s: float = 100.0,
    method: str = "sum",
    **params: float,
) -> SimulatorBackend:
    defaults = {"idle_power_w_per_core": 0.0, "replica_startup_s": 0.0, "variant_switch_s": 0.0}
    defaults.update(params)
    return SimulatorBackend(
        stages,
        np.asarray(arrivals, dtype=np.float64),
        sla_s=sla_s,
        accuracy_method=method,  # type: ignore[arg-type]
        params=SimParams(**defaults),  # type: ignore[arg-type]
        initial=initial,
    )


def assert_accounted(sim: SimulatorBackend) -> None:
    s = sim.summary()
    assert s.sent == s.completed + s.dropped + s.failed + s.in_flight
    assert s.latencies_s.size == s.completed


def one_stage() -> Stage:
    """One variant: batch 1 takes 0.1 s, batch 4 takes 0.4 s (2 and 3 interpolate to 0.2 and 0.3)."""
    return Stage("only", (variant("a", [(1, 0.1, 1.0), (4, 0.4, 4.0)]),))
