"""The backend interface shared by the simulator and the real executors.

A backend serves one pipeline. The adapter drives it in intervals::

    backend.apply(config)            # reconfigure now (the backend charges its own start-up delays)
    backend.run_until(t_s)           # serve until pipeline time t_s (simulated or wall, from its clock)
    backend.arrivals_per_second()    # monitoring: arrivals in each whole second so far
    backend.seconds()                # per-second records so far (same record for every backend)
    backend.summary()                # totals once the run is over

Time is pipeline time in seconds since the run started, read from the injected :class:`Clock`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray


class Clock(Protocol):
    """Where a backend and the adapter read the time (simulated or wall), in seconds since start."""

    def now_s(self) -> float: ...


@dataclass(frozen=True)
class StageConfig:
    variant: str
    batch: int
    replicas: int


@dataclass(frozen=True)
class PipelineConfig:
    """One configuration of the whole pipeline, stages in pipeline order."""

    stages: tuple[StageConfig, ...]

    def diff(self, other: PipelineConfig | None) -> tuple[int, ...]:
        """Indices of stages whose configuration differs from ``other`` (all when other is None)."""
        if other is None:
            return tuple(range(len(self.stages)))
        return tuple(i for i, (a, b) in enumerate(zip(self.stages, other.stages, strict=True)) if a != b)


@dataclass(frozen=True)
class SecondRecord:
    """What happened during second [t_s, t_s + 1) of a run. Every backend reports exactly this."""

    t_s: int
    arrivals: int
    completed: int
    dropped: int
    failed: int
    #: requests completed this second whose end-to-end latency exceeded the SLA
    late: int
    latency_p50_s: float | None
    latency_p99_s: float | None
    #: cores allocated (replicas x cores per replica, summed over stages), at the end of the second
    cost_cores: int
    #: pipeline accuracy score of the configuration serving at the end of the second
    pas: float
    power_w: float
    energy_j: float
    #: where the energy number comes from: "model" (simulator power model), "rapl", "estimated", ...
    energy_source: str
    queue_lengths: tuple[int, ...]
    config: PipelineConfig


@dataclass(frozen=True)
class RunSummary:
    """Totals of a finished run. ``sent == completed + dropped + failed + in_flight``."""

    sent: int
    completed: int
    dropped: int
    failed: int
    in_flight: int
    late: int
    energy_j: float
    duration_s: float
    #: end-to-end latency of every completed request, in completion order
    latencies_s: NDArray[np.float64]


class Backend(ABC):
    """A pipeline being served. Subclasses: simulator, local executor, Ray Serve."""

    @abstractmethod
    def apply(self, config: PipelineConfig) -> None:
        """Reconfigure to ``config`` at the current time; changes take their start-up delay to land."""

    @abstractmethod
    def run_until(self, t_s: float) -> None:
        """Serve requests until pipeline time ``t_s``."""

    @abstractmethod
    def arrivals_per_second(self) -> NDArray[np.float64]:
        """Arrivals counted in each whole second elapsed so far (the monitoring input of predictors)."""

    @abstractmethod
    def seconds(self) -> list[SecondRecord]:
        """Per-second records of every whole second elapsed so far."""

    @abstractmethod
    def summary(self) -> RunSummary:
        """Totals so far (call after the last ``run_until``)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (processes, meters). Idempotent."""
