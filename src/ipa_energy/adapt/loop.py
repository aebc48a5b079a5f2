"""The adaptation loop, shared by every backend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ipa_energy.adapt.policy import AdaptationStep, Policy, Snapshot
from ipa_energy.backends.base import Backend, Clock, PipelineConfig


@dataclass(frozen=True)
class AdaptParams:
    #: seconds between decisions (IPA: 10 s)
    interval_s: float = 10.0
    #: seconds of per-second arrival history handed to the predictor (IPA: 2 minutes)
    monitoring_window_s: int = 120


def run_adaptation(
    backend: Backend,
    clock: Clock,
    policy: Policy,
    *,
    duration_s: float,
    params: AdaptParams = AdaptParams(),
    on_step: Callable[[AdaptationStep], None] | None = None,
    on_interval: Callable[[], None] | None = None,
    history_before_rps: NDArray[np.float64] | None = None,
    current: PipelineConfig | None = None,
    skip_first: bool = False,
) -> list[AdaptationStep]:
    """Every ``interval_s``: snapshot -> policy -> apply the difference; serve until ``duration_s``.

    Time is read from ``clock`` (simulated or wall); the backend never learns which policy decided.
    ``history_before_rps`` is the load monitored before the run started (prepended to the backend's
    per-second arrivals); ``current`` the configuration already deployed; ``on_interval`` runs after
    each served interval (the run path appends the new per-second records there). With ``skip_first``
    the decision at the start time was already taken (``current``, deployed before the clock started).
    """
    steps: list[AdaptationStep] = []
    before = np.zeros(0) if history_before_rps is None else np.asarray(history_before_rps, dtype=np.float64)
    t = clock.now_s()
    if skip_first and t < duration_s:
        t_next = min(duration_s, t + params.interval_s)
        backend.run_until(t_next)
        if on_interval is not None:
            on_interval()
        t = max(t_next, clock.now_s())
    while t < duration_s:
        observed = backend.arrivals_per_second()
        if before.size and observed.size < params.monitoring_window_s:
            observed = np.concatenate([before, observed])
        history = observed[-params.monitoring_window_s :]
        step = policy.decide(Snapshot(t_s=t, history_rps=history, current=current))
        if step.changed_stages:
            backend.apply(step.config)
            current = step.config
        steps.append(step)
        if on_step is not None:
            on_step(step)
        t_next = min(duration_s, t + params.interval_s)
        backend.run_until(t_next)
        if on_interval is not None:
            on_interval()
        t = max(t_next, clock.now_s())
    return steps
