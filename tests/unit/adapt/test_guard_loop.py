"""The guard inside the adaptation loop: it scales up between decisions, verified, through backend.apply."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ipa_energy.adapt import AdaptParams, Policy, run_adaptation
from ipa_energy.adapt.guard import GuardParams
from ipa_energy.backends.memory import InMemoryBackend
from ipa_energy.optimize.problem import Problem, ProfilePoint, Stage, Variant, Weights
from ipa_energy.optimize.solvers import get_solver


class Constant:
    """A predictor that never sees a ramp coming (always 2 rps)."""

    def predict(self, history_rps: NDArray[np.float64]) -> float:
        return 2.0


def _problem(rate: float, t_s: float = 0.0) -> Problem:
    small = Variant("small", 0.5, 1, (ProfilePoint(1, 0.1, 1.0), ProfilePoint(4, 0.3, 3.0)))
    big = Variant("big", 0.9, 2, (ProfilePoint(1, 0.4, 4.0), ProfilePoint(4, 1.0, 12.0)))
    return Problem(arrival_rate=rate, sla_s=1.0, stages=(Stage("only", (small, big)),), max_replicas=20,
                   weights=Weights(accuracy=10.0, cost=0.1))


def _run(guard: GuardParams | None) -> tuple[InMemoryBackend, list]:
    backend = InMemoryBackend(np.array([2.0] * 15 + [30.0] * 25))
    policy = Policy(_problem, get_solver("dp"), Constant())
    steps = run_adaptation(backend, backend.clock, policy, duration_s=40, params=AdaptParams(interval_s=10),
                           guard=guard)
    return backend, steps


def test_without_a_guard_nothing_changes_between_decisions() -> None:
    backend, steps = _run(None)
    assert [s.t_s for s in steps] == [0, 10, 20, 30]
    assert all(t % 10 == 0 for t, _ in backend.applied)


def test_guard_scales_up_mid_interval_keeping_the_variant() -> None:
    backend, steps = _run(GuardParams())
    guard = [s for s in steps if s.source.startswith("guard")]
    assert guard, "a sustained 15x overload must fire the guard"
    first = guard[0]
    # the load jumps at t = 15; a 2 s window and 3 sustained checks: the guard acts before t = 20
    assert 15 < first.t_s < 20 and first.source == "guard" and not first.rejected
    before = next(s for s in reversed(steps) if s.t_s < first.t_s and not s.source.startswith("guard"))
    assert first.config.stages[0].variant == before.config.stages[0].variant
    assert first.config.stages[0].replicas > before.config.stages[0].replicas
    # applied through the backend at the time it was decided, like any decision
    assert (first.t_s, first.config) in backend.applied
    # the interval decisions keep their cadence
    assert [s.t_s for s in steps if not s.source.startswith("guard")] == [0, 10, 20, 30]
    # bounded: at most max_actions_per_interval per interval
    per_interval = np.bincount([int(s.t_s // 10) for s in guard])
    assert per_interval.max() <= GuardParams().max_actions_per_interval


def test_guard_does_not_act_when_capacity_suffices() -> None:
    backend = InMemoryBackend(np.array([2.0] * 40))
    policy = Policy(_problem, get_solver("dp"), Constant())
    steps = run_adaptation(backend, backend.clock, policy, duration_s=40, params=AdaptParams(interval_s=10),
                           guard=GuardParams())
    assert not [s for s in steps if s.source.startswith("guard")]
