"""A workload trace as wall-clock arrival times for a real backend."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import ConfigError


@dataclass(frozen=True)
class Replay:
    """Arrival instants in real seconds from the start of the run, and the trace they came from."""

    arrival_times_s: NDArray[np.float64]
    workload: str
    time_scale: float
    duration_s: float
    seed: int

    @property
    def mean_rate_rps(self) -> float:
        return len(self.arrival_times_s) / self.duration_s if self.duration_s > 0 else 0.0


def replay(
    workload: str, *, duration_s: float, time_scale: float = 1.0, seed: int = 0, load_scale: float = 1.0
) -> Replay:
    """Seeded Poisson arrivals of ``workload``, compressed ``time_scale`` times (10: a 1200 s trace plays
    in 120 s at 10x the rate), keeping those in the first ``duration_s`` real seconds."""
    from ipa_energy.workloads import arrival_times, load_workload

    if not (time_scale > 0 and np.isfinite(time_scale)):
        raise ConfigError(f"must be a positive number (got {time_scale!r})", field="time_scale")
    if not (duration_s > 0 and np.isfinite(duration_s)):
        raise ConfigError(f"must be a positive number of seconds (got {duration_s!r})", field="duration_s")
    w = load_workload(workload, load_scale=load_scale)
    trace_s = len(w.rates_rps) / time_scale
    if duration_s > trace_s + 1e-9:
        raise ConfigError(
            f"{duration_s:g} s is longer than the trace ({len(w.rates_rps)} s / time_scale {time_scale:g} = "
            f"{trace_s:g} s)", field="duration_s",
        )
    t = arrival_times(w, seed) / time_scale
    return Replay(t[t < duration_s], workload, time_scale, duration_s, seed)
