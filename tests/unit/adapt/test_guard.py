"""The reactive guard: fires on a sustained overload, bounded, and does not flap (hysteresis)."""

from __future__ import annotations

import numpy as np
import pytest

from ipa_energy.adapt.guard import (
    GuardParams,
    GuardState,
    config_capacity_rps,
    guard_check,
    reset_interval,
)
from ipa_energy.backends.base import PipelineConfig, StageConfig
from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import Problem, ProfilePoint, Stage, Variant


def _run(arrivals: list[float], capacity: float, params: GuardParams = GuardParams(),
         queues: list[int] | None = None) -> list[int]:
    """Check every second over an arrival series; the seconds at which the guard fired."""
    state = GuardState()
    fired = []
    for t in range(len(arrivals)):
        q = [queues[t]] if queues else [0]
        action, state = guard_check(float(t), capacity, np.array(arrivals[: t + 1]), q, state, params)
        if action is not None:
            fired.append(t)
    return fired


def test_quiet_load_never_fires() -> None:
    assert _run([8.0] * 60, capacity=10.0) == []


def test_sustained_overload_fires_once_with_a_bounded_rate() -> None:
    params = GuardParams()
    state = GuardState()
    actions = []
    for t in range(30):
        a, state = guard_check(float(t), 10.0, np.array([8.0] * 5 + [100.0] * t), [0], state, params)
        if a:
            actions.append(a)
    assert len(actions) >= 1
    first = actions[0]
    assert first.rate_rps <= 10.0 * params.max_step  # bounded by max_step
    assert first.rate_rps > 10.0 and first.reason == "arrivals"
    assert state.actions_total == len(actions) <= params.max_actions_per_interval


def test_a_single_spike_second_does_not_fire() -> None:
    # one second at 2x capacity stays in the 2 s window for 2 checks; 3 are needed: no action
    assert _run([8.0] * 10 + [20.0] + [8.0] * 20, capacity=10.0) == []


def test_load_oscillating_around_capacity_does_not_flap() -> None:
    # alternate 3 s above capacity and 3 s slightly below it (inside the hysteresis band), for 2 minutes
    arrivals = ([12.0] * 3 + [9.0] * 3) * 20
    fired = _run(arrivals, capacity=10.0, params=GuardParams(cooldown_s=1e9, max_actions_per_interval=100))
    assert len(fired) == 1  # fired once; never re-armed because demand never fell below 0.8 x capacity


def test_rearms_after_the_load_falls_below_release() -> None:
    arrivals = [15.0] * 10 + [5.0] * 10 + [15.0] * 10
    fired = _run(arrivals, capacity=10.0, params=GuardParams(cooldown_s=1e9, max_actions_per_interval=100))
    assert len(fired) == 2 and fired[1] >= 20


def test_persistent_overload_fires_again_only_after_cooldown_and_within_budget() -> None:
    params = GuardParams(cooldown_s=5.0, max_actions_per_interval=3)
    fired = _run([30.0] * 60, capacity=10.0, params=params)
    assert len(fired) == 3
    assert all(b - a >= 5 for a, b in zip(fired, fired[1:], strict=False))


def test_interval_reset_restores_the_budget() -> None:
    params = GuardParams(cooldown_s=0.0, max_actions_per_interval=1)
    state = GuardState()
    a1, state = guard_check(0.0, 10.0, np.full(5, 30.0), [0], replace_over(state, 5), params)
    a2, state = guard_check(1.0, 10.0, np.full(5, 30.0), [0], state, params)
    assert a1 is not None and a2 is None
    a3, _ = guard_check(2.0, 10.0, np.full(5, 30.0), [0], replace_over(reset_interval(state), 5), params)
    assert a3 is not None


def replace_over(state: GuardState, n: int) -> GuardState:
    from dataclasses import replace

    return replace(state, over_checks=n)


def test_a_backlog_alone_can_fire() -> None:
    fired = _run([9.0] * 20, capacity=10.0, queues=[0] * 5 + [40] * 15)
    assert fired
    state = GuardState(over_checks=5)
    action, _ = guard_check(0.0, 10.0, np.full(5, 9.0), [20, 20], state)
    assert action is not None and action.reason == "queue"
    assert action.demand_rps == pytest.approx(9.0 + 40 / GuardParams().drain_s)


def test_max_rate_caps_the_request() -> None:
    action, _ = guard_check(0.0, 10.0, np.full(5, 100.0), [0], GuardState(over_checks=5),
                            GuardParams(max_rate_rps=12.0))
    assert action is not None and action.rate_rps == 12.0


def test_invalid_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        GuardParams(release_ratio=1.2)  # the band must lie below the trigger
    with pytest.raises(ConfigError):
        guard_check(0.0, float("nan"), [1.0], [0], GuardState())


def test_capacity_is_the_slowest_stage() -> None:
    prof = (ProfilePoint(1, 0.1, 1.0), ProfilePoint(4, 0.2, 2.0))
    stages = (Stage("a", (Variant("x", 0.9, 1, prof),)), Stage("b", (Variant("y", 0.8, 2, prof),)))
    problem = Problem(arrival_rate=10.0, sla_s=5.0, stages=stages)
    cfg = PipelineConfig((StageConfig("x", 4, 2), StageConfig("y", 1, 1)))
    assert config_capacity_rps(problem, cfg) == pytest.approx(10.0)  # min(2*4/0.2 = 40, 1*1/0.1 = 10)
    assert config_capacity_rps(problem, PipelineConfig((StageConfig("x", 2, 1), StageConfig("y", 1, 1)))) == 0.0
