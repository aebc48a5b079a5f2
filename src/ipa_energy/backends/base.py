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

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

# one Clock protocol for meters, backends and the adaptation loop (simulated or wall time, in seconds)
from ipa_energy.energy.base import Clock as Clock
from ipa_energy.profiles.online import Observation
from ipa_energy.profiles.table import ProfileTable


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
    #: energy of the second within the backend's :attr:`Backend.energy_scope`
    energy_j: float
    #: where the energy number comes from: "rapl" (measured), "model (estimated)", ...
    energy_source: str
    queue_lengths: tuple[int, ...]
    config: PipelineConfig
    #: the part of ``energy_j`` drawn whatever is served (idle cores, the node base); idle + dynamic = total
    idle_energy_j: float = 0.0
    #: the part of ``energy_j`` caused by serving
    dynamic_energy_j: float = 0.0
    #: energy attributed to each stage, in pipeline order; sum + ``unattributed_energy_j`` = ``energy_j``
    stage_energy_j: tuple[float, ...] = ()
    #: energy in scope that belongs to no stage (idle of the machine, the router, other processes)
    unattributed_energy_j: float = 0.0

    def __post_init__(self) -> None:
        tol = 1e-6 * max(1.0, abs(self.energy_j))
        if abs(self.idle_energy_j + self.dynamic_energy_j - self.energy_j) > tol:
            raise ValueError(f"second {self.t_s}: idle + dynamic energy != total ({self.idle_energy_j} + "
                             f"{self.dynamic_energy_j} != {self.energy_j})")
        if abs(math.fsum(self.stage_energy_j) + self.unattributed_energy_j - self.energy_j) > tol:
            raise ValueError(f"second {self.t_s}: stage + unattributed energy != total")


@dataclass(frozen=True)
class BatchRecord:
    """One batch handed to a replica (kept only when a backend is built with ``record_batches=True``).

    ``request_ids`` are the requests' indices in the run's arrival times, so two backends given the same
    arrivals can be compared request by request (which were batched together, by which variant).
    """

    stage: int
    variant: str
    start_s: float
    request_ids: tuple[int, ...]


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
    """A pipeline being served. Subclasses: simulator, local executor, Ray Serve.

    ``energy_scope`` says what the per-second ``energy_j`` covers (e.g. "allocated cores of the
    pipeline", "serving processes", "CPU package"): every output that carries energy carries it too.
    """

    energy_scope: str = "none"

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

    # ---- the run's life (the run path calls these; defaults suit a backend with nothing to wait for)
    def start(self, config: PipelineConfig) -> None:
        """Deploy the first configuration so that it is serving when the run starts (t = 0)."""
        self.apply(config)

    def request_stop(self) -> None:  # noqa: B027 - optional hook
        """Ask the run to end early (safe from a signal handler): the next ``run_until`` raises
        :class:`StopRequested`. Backends that cannot be interrupted ignore it."""

    def finish(self, drain_s: float) -> None:  # noqa: B027 - optional hook
        """After the last interval: admit nothing more, serve what is in the pipeline for up to
        ``drain_s`` seconds (the drop limit), and close the last second."""

    def batch_log(self) -> list[BatchRecord]:
        """Every batch sent so far, in dispatch order, when the backend records them (else empty)."""
        return []

    def observations(self) -> list[Observation]:
        """The batches served since the last call, one :class:`~ipa_energy.profiles.online.Observation`
        each (latency, and energy where the meter attributes it); the run path feeds them to the online
        profile. Backends that observe nothing return none."""
        return []

    def change_delays_s(self) -> tuple[float, float]:
        """``(replica_startup_s, variant_switch_s)``: how long a change takes to land here, as the backend
        states or has measured it (start-up-aware planning reads it at each decision). Default: 0, 0."""
        return 0.0, 0.0

    def extras(self) -> dict[str, Any]:
        """Backend-specific figures for the run's outputs (accuracy, retried requests, weights, ...)."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (processes, meters). Idempotent."""


class StopRequested(Exception):  # noqa: N818 - a signal, not an error
    """Raised by ``run_until`` after :meth:`Backend.request_stop` (Ctrl-C, SIGTERM)."""


@dataclass(frozen=True)
class BackendContext:
    """What the run path hands a backend builder (``BACKENDS.create(name, ctx=...)``).

    ``pipeline`` is a loaded :class:`ipa_energy.pipelines.model.Pipeline`; ``options`` holds settings
    only some backends read (simulator overrides, model cache, image size, a cluster address).
    ``world_profile`` is what the simulated machines really do when it differs from the planning
    profile (``simulate --world-profile``); None: the pipeline's profile. Real backends have no use for it.
    """

    pipeline: Any
    arrival_times_s: NDArray[np.float64]
    system: str
    seed: int
    max_batch_wait_s: float | None = None
    meter: str = "auto"
    options: Mapping[str, Any] = field(default_factory=dict)
    world_profile: ProfileTable | None = None
