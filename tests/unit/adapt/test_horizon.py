"""Start-up-aware planning: the plan covers [t, t + delay + interval]."""

from __future__ import annotations

import numpy as np
import pytest

from ipa_energy.adapt.horizon import decision_delay_s, plan_rate
from ipa_energy.errors import ConfigError


def _trend(history: np.ndarray) -> float:
    """A test forecaster: the next 20 s peak continues the last 20 s trend."""
    return float(history[-1] + (history[-1] - history[-20]))


def test_a_span_inside_one_forecast_is_the_forecast() -> None:
    h = np.linspace(0, 19, 120)
    plan = plan_rate(h, lambda x: 42.0, delay_s=5.0, interval_s=10.0)
    assert plan.rate_rps == 42.0 and plan.forecasts_rps == (42.0,) and plan.span_s == 15.0


def test_longer_spans_roll_the_forecast_forward_on_a_ramp() -> None:
    h = np.arange(120, dtype=float)  # +1 rps per second
    short = plan_rate(h, _trend, delay_s=10.0, interval_s=10.0, recent_s=0)
    long = plan_rate(h, _trend, delay_s=50.0, interval_s=10.0, recent_s=0)
    assert len(short.forecasts_rps) == 1 and len(long.forecasts_rps) == 3
    assert long.rate_rps > short.rate_rps  # a slower start-up must plan for more of the ramp
    assert np.all(np.diff(long.forecasts_rps) > 0)


def test_recent_peak_is_a_floor_and_the_history_is_untouched() -> None:
    h = np.array([5.0] * 100 + [30.0] * 3 + [5.0] * 2)
    before = h.copy()
    plan = plan_rate(h, lambda x: 6.0, delay_s=10.0)
    assert plan.rate_rps == 30.0 and plan.recent_peak_rps == 30.0
    assert plan_rate(h, lambda x: 6.0, delay_s=10.0, recent_s=0).rate_rps == 6.0
    assert np.array_equal(h, before)


def test_bad_forecasts_and_empty_histories_are_safe() -> None:
    assert plan_rate(np.array([]), lambda x: float("nan"), delay_s=0.0).rate_rps == 0.0
    assert plan_rate(np.array([3.0]), lambda x: -4.0, delay_s=0.0).rate_rps == 3.0


def test_delay_is_the_switch_delay_when_a_switch_is_possible() -> None:
    assert decision_delay_s(replica_startup_s=5, variant_switch_s=10) == 10
    assert decision_delay_s(replica_startup_s=5, variant_switch_s=10, may_switch=False) == 5
    with pytest.raises(ConfigError):
        decision_delay_s(replica_startup_s=-1, variant_switch_s=10)
    with pytest.raises(ConfigError):
        plan_rate(np.ones(3), lambda x: 1.0, delay_s=float("inf"))
