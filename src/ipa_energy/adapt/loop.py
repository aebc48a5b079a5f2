"""The adaptation loop, shared by every backend.

Every ``interval_s`` the policy decides (snapshot -> planned rate -> problem -> solver, verified) and the
difference is applied. With a guard (:mod:`ipa_energy.adapt.guard`) the loop also checks every
``guard_check_s`` between decisions whether demand (recent arrivals + backlog) crosses what the running
configuration sustains, and if so asks the policy for a verified scale-up (:meth:`Policy.decide_guard`,
source ``guard``) applied through ``backend.apply`` like any decision.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ipa_energy.adapt.guard import GuardParams, GuardState, config_capacity_rps, guard_check, reset_interval
from ipa_energy.adapt.policy import AdaptationStep, Policy, Snapshot
from ipa_energy.backends.base import Backend, Clock, PipelineConfig


@dataclass(frozen=True)
class AdaptParams:
    #: seconds between decisions (IPA: 10 s)
    interval_s: float = 10.0
    #: seconds of per-second arrival history handed to the predictor (IPA: 2 minutes)
    monitoring_window_s: int = 120
    #: seconds between guard checks (when a guard is given)
    guard_check_s: float = 1.0


class _Guarded:
    """The loop's guard between decisions: its explicit state and the running configuration's capacity."""

    def __init__(self, policy: Policy, params: GuardParams) -> None:
        self.policy = policy
        self.params = params
        self.state = GuardState()
        self._cap_of: PipelineConfig | None = None
        self._cap_rps = 0.0

    def capacity_rps(self, config: PipelineConfig, t_s: float) -> float:
        if config != self._cap_of:  # the profile does not depend on the rate: any rate's problem will do
            self._cap_rps = config_capacity_rps(self.policy.problem(self.policy.min_rate_rps, t_s), config)
            self._cap_of = config
        return self._cap_rps

    def check(self, backend: Backend, t_s: float, history: NDArray[np.float64],
              current: PipelineConfig) -> AdaptationStep | None:
        """A verified scale-up step to apply now, or None."""
        records = backend.seconds()
        queues = records[-1].queue_lengths if records else ()
        cap = self.capacity_rps(current, t_s)
        action, self.state = guard_check(t_s, cap, history, queues, self.state, self.params)
        if action is None:
            return None
        step = self.policy.decide_guard(Snapshot(t_s=t_s, history_rps=history, current=current), action.rate_rps)
        if step.source != "guard":
            # only a verified answer of the problem is applied between decisions: a fallback (no plan
            # fits the SLA, the budgets or a power cap) waits for the next decision and its stated policy
            return None
        if not step.changed_stages or self.capacity_rps(step.config, t_s) <= cap:
            return None  # the running variants cannot do more: nothing worth a reconfiguration
        return step


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
    guard: GuardParams | None = None,
) -> list[AdaptationStep]:
    """Every ``interval_s``: snapshot -> policy -> apply the difference; serve until ``duration_s``.

    Time is read from ``clock`` (simulated or wall); the backend never learns which policy decided.
    ``history_before_rps`` is the load monitored before the run started (prepended to the backend's
    per-second arrivals); ``current`` the configuration already deployed; ``on_interval`` runs after
    each served interval (the run path appends the new per-second records there). With ``skip_first``
    the decision at the start time was already taken (``current``, deployed before the clock started).
    With ``guard``, a scale-up may be applied between decisions (steps with source ``guard``).
    """
    steps: list[AdaptationStep] = []
    before = np.zeros(0) if history_before_rps is None else np.asarray(history_before_rps, dtype=np.float64)
    guarded = None if guard is None else _Guarded(policy, guard)

    def history() -> NDArray[np.float64]:
        observed = backend.arrivals_per_second()
        if before.size and observed.size < params.monitoring_window_s:
            observed = np.concatenate([before, observed])
        return observed[-params.monitoring_window_s :]

    def record(step: AdaptationStep) -> None:
        steps.append(step)
        if on_step is not None:
            on_step(step)

    def serve(t: float, t_end: float) -> float:
        """Serve until ``t_end``, checking the guard every ``guard_check_s``; return the time reached."""
        nonlocal current
        if guarded is None or current is None:
            backend.run_until(t_end)
            return max(t_end, clock.now_s())
        while True:
            t_next = min(t_end, (math.floor(t / params.guard_check_s + 1e-9) + 1) * params.guard_check_s)
            backend.run_until(t_next)
            t = max(t_next, clock.now_s())
            if t >= t_end:
                return t
            step = guarded.check(backend, t, history(), current)
            if step is not None:
                backend.apply(step.config)
                current = step.config
                record(step)

    t = clock.now_s()
    if skip_first and t < duration_s:
        t = serve(t, min(duration_s, t + params.interval_s))
        if on_interval is not None:
            on_interval()
    while t < duration_s:
        step = policy.decide(Snapshot(t_s=t, history_rps=history(), current=current))
        if step.changed_stages:
            backend.apply(step.config)
            current = step.config
        record(step)
        if guarded is not None:
            guarded.state = reset_interval(guarded.state)
        t = serve(t, min(duration_s, t + params.interval_s))
        if on_interval is not None:
            on_interval()
    return steps
