"""Start-up-aware planning: the rate a decision made at time t must be sized for.

A decision made at ``t`` lands only after the start-up or switch delay ``d`` and is replaced by the next
decision, which itself lands at ``t + interval + d``. So the configuration chosen at ``t`` is the one
that must carry the load until ``t + d + interval``, and (the old replicas keep serving until the new
ones are ready, so the load at ``t`` is what it meets first) it is planned for the peak load over the
whole span ``[t, t + d + interval]``:

    plan(t) = max(recent peak, forecast peak over [t, t + d + interval])

* the forecast comes from a predictor of the peak of the next ``forecast_s`` seconds (IPA's LSTM and the
  gbm predictors: 20 s). A span longer than ``forecast_s`` is covered by rolling the forecast forward:
  the history is extended by ``forecast_s`` seconds ramping linearly from the last observed second to the
  predicted peak (so a trend carries on) and the predictor asked again,
  until the span is covered; the plan is the largest of these forecasts;
* the recent peak (the max of the last ``recent_s`` observed seconds) is a floor: the span starts now, so
  the load already arriving is part of it. ``recent_s = 0`` turns the floor off.

With the simulator's defaults (``replica_startup_s`` 5 s, ``variant_switch_s`` 10 s, interval 10 s) the
span is 15-20 s, inside one 20 s forecast; the roll matters for slower start-ups (a real cluster's
30-60 s pod start). :func:`decision_delay_s` gives the delay to use: the switch delay when the caller
cannot know yet whether the decision will switch a variant (the safe choice), else the start-up delay.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import ConfigError

#: seconds of load a 20 s peak predictor (IPA's target) forecasts
DEFAULT_FORECAST_S = 20
#: the observed seconds whose max is the plan's floor
DEFAULT_RECENT_S = 5
#: at most this many rolled forecasts (a span of 200 s with 20 s forecasts)
MAX_ROLLS = 10


@dataclass(frozen=True)
class HorizonPlan:
    """The rate to plan for and how it was reached."""

    rate_rps: float
    #: the span [t, t + span_s] the decision serves
    span_s: float
    #: each rolled forecast of a ``forecast_s`` peak, in order (the first is the predictor's own answer)
    forecasts_rps: tuple[float, ...]
    #: the max of the last ``recent_s`` seconds (0 when the floor is off or there is no history)
    recent_peak_rps: float


def decision_delay_s(*, replica_startup_s: float, variant_switch_s: float, may_switch: bool = True) -> float:
    """The delay before a decision lands: a variant switch takes ``variant_switch_s``, a scale-up of a
    running variant ``replica_startup_s``. Before solving, a switch is possible: the larger of the two."""
    for name, v in (("replica_startup_s", replica_startup_s), ("variant_switch_s", variant_switch_s)):
        if not (math.isfinite(v) and v >= 0):
            raise ConfigError(f"must be a finite number >= 0 (got {v!r})", field=name)
    return max(replica_startup_s, variant_switch_s) if may_switch else replica_startup_s


def plan_rate(
    history_rps: NDArray[np.float64],
    forecast: Callable[[NDArray[np.float64]], float],
    *,
    delay_s: float,
    interval_s: float = 10.0,
    forecast_s: int = DEFAULT_FORECAST_S,
    recent_s: int = DEFAULT_RECENT_S,
) -> HorizonPlan:
    """The peak load to plan for over ``[t, t + delay_s + interval_s]`` (``t`` = the end of the history).

    ``forecast(history)`` returns the peak of the next ``forecast_s`` seconds (a predictor's ``predict``).
    A pure function: the history is never modified.
    """
    checks = {"delay_s": (delay_s, math.isfinite(delay_s) and delay_s >= 0),
              "interval_s": (interval_s, math.isfinite(interval_s) and interval_s > 0),
              "forecast_s": (forecast_s, forecast_s >= 1), "recent_s": (recent_s, recent_s >= 0)}
    for name, (value, ok) in checks.items():
        if not ok:
            raise ConfigError(f"invalid value {value!r}", field=name)
    h = np.asarray(history_rps, dtype=np.float64)
    span_s = delay_s + interval_s
    rolls = min(MAX_ROLLS, max(1, math.ceil(span_s / forecast_s)))
    forecasts: list[float] = []
    rolled = h
    for _ in range(rolls):
        p = float(forecast(rolled))
        p = p if math.isfinite(p) and p > 0 else 0.0
        forecasts.append(p)
        last = float(rolled[-1]) if rolled.size else p
        rolled = np.concatenate([rolled, np.linspace(last, p, forecast_s + 1)[1:]])
    recent = float(h[-recent_s:].max()) if recent_s and h.size else 0.0
    return HorizonPlan(max(recent, *forecasts), span_s, tuple(forecasts), recent)
