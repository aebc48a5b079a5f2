"""The adaptation loop, shared by every backend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
) -> list[AdaptationStep]:
    """Every ``interval_s``: snapshot -> policy -> apply the difference; serve until ``duration_s``.

    Time is read from ``clock`` (simulated or wall); the backend never learns which policy decided.
    """
    steps: list[AdaptationStep] = []
    current: PipelineConfig | None = None
    t = clock.now_s()
    while t < duration_s:
        history = backend.arrivals_per_second()[-params.monitoring_window_s :]
        step = policy.decide(Snapshot(t_s=t, history_rps=history, current=current))
        if step.changed_stages:
            backend.apply(step.config)
            current = step.config
        steps.append(step)
        if on_step is not None:
            on_step(step)
        t_next = min(duration_s, t + params.interval_s)
        backend.run_until(t_next)
        t = max(t_next, clock.now_s())
    return steps
