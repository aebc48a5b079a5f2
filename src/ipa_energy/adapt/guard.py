"""A reactive guard between decisions: scale up now when the load crosses what the configuration sustains.

Called every second (or every check) between the interval's decisions, it is a pure function of the
current configuration's capacity (rps), the recent per-second arrivals, the queue lengths and its own
explicit state (:class:`GuardState`); it returns a scale-up request (:class:`GuardAction`: the rate to
re-plan for) or None, and the next state. The rules:

* **demand** = mean arrivals of the last ``window_s`` seconds + backlog / ``drain_s`` (the queued
  requests must be served within ``drain_s`` on top of the arrivals);
* **hysteresis**: the guard is *armed* while demand <= ``release_ratio`` x capacity. It fires only when
  demand > ``trigger_ratio`` x capacity for ``sustain_checks`` consecutive checks; after firing it is
  disarmed and re-arms only when demand falls below ``release_ratio`` x capacity (release < trigger), or
  after ``cooldown_s`` if the overload persists (the scale-up did not suffice: fire again, bounded).
  A load that oscillates around capacity therefore fires once, not at every crossing;
* **bounded**: the requested rate is demand x (1 + ``headroom``), at least capacity x ``min_step`` (a
  step worth a reconfiguration) and at most capacity x ``max_step`` and ``max_rate_rps``; at most
  ``max_actions_per_interval`` firings between two interval decisions (:func:`reset_interval`).

The guard never scales down: that is the interval decision's job.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from ipa_energy.backends.base import PipelineConfig
from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import Problem


@dataclass(frozen=True)
class GuardParams:
    """The guard's knobs (units in the names)."""

    #: seconds of arrivals averaged into the demand
    window_s: int = 2
    #: seconds within which the queued requests must be served (adds backlog / drain_s to the demand)
    drain_s: float = 5.0
    #: fire when demand exceeds this multiple of capacity ...
    trigger_ratio: float = 1.0
    #: ... for this many consecutive checks
    sustain_checks: int = 3
    #: re-arm when demand falls below this multiple of capacity (< trigger_ratio: the hysteresis band)
    release_ratio: float = 0.8
    #: while still overloaded after a firing, fire again no sooner than this
    cooldown_s: float = 10.0
    #: the requested rate is demand x (1 + headroom) ...
    headroom: float = 0.1
    #: ... at least capacity x min_step ...
    min_step: float = 1.1
    #: ... at most capacity x max_step ...
    max_step: float = 3.0
    #: ... and at most this rate (None: no absolute cap)
    max_rate_rps: float | None = None
    #: firings allowed between two interval decisions
    max_actions_per_interval: int = 2

    def __post_init__(self) -> None:
        ok = {
            "window_s": self.window_s >= 1, "drain_s": self.drain_s > 0,
            "trigger_ratio": self.trigger_ratio > 0, "sustain_checks": self.sustain_checks >= 1,
            "release_ratio": 0 < self.release_ratio < self.trigger_ratio,
            "cooldown_s": self.cooldown_s >= 0, "headroom": self.headroom >= 0,
            "min_step": self.min_step >= 1, "max_step": self.max_step >= self.min_step,
            "max_rate_rps": self.max_rate_rps is None or self.max_rate_rps > 0,
            "max_actions_per_interval": self.max_actions_per_interval >= 0,
        }
        for name, good in ok.items():
            if not good:
                raise ConfigError(f"invalid value {getattr(self, name)!r}", field=name)


@dataclass(frozen=True)
class GuardState:
    """What the guard remembers between checks."""

    armed: bool = True
    #: consecutive checks with demand above the trigger
    over_checks: int = 0
    #: when it last fired (-inf: never)
    last_fired_s: float = -math.inf
    #: firings since the last interval decision
    actions_this_interval: int = 0
    #: firings in the whole run (for the outputs)
    actions_total: int = 0


@dataclass(frozen=True)
class GuardAction:
    """Scale up now: re-plan for ``rate_rps`` (the demand seen, with headroom, bounded)."""

    t_s: float
    rate_rps: float
    demand_rps: float
    capacity_rps: float
    #: "arrivals" when the arrivals alone exceed the trigger, "queue" when the backlog tipped it
    reason: str


def demand_rps(arrivals_rps: NDArray[np.float64] | Sequence[float], queue_lengths: Sequence[int],
               params: GuardParams) -> tuple[float, float]:
    """``(demand, arrivals part)``: mean of the last ``window_s`` seconds + total backlog / drain_s."""
    a = np.asarray(arrivals_rps, dtype=np.float64)[-params.window_s :]
    arrivals = float(a.mean()) if a.size else 0.0
    return arrivals + float(sum(queue_lengths)) / params.drain_s, arrivals


def guard_check(
    t_s: float,
    capacity_rps: float,
    arrivals_rps: NDArray[np.float64] | Sequence[float],
    queue_lengths: Sequence[int],
    state: GuardState,
    params: GuardParams = GuardParams(),
) -> tuple[GuardAction | None, GuardState]:
    """One check at time ``t_s``: a scale-up action or None, and the guard's next state."""
    if not (math.isfinite(capacity_rps) and capacity_rps >= 0):
        raise ConfigError(f"must be a finite number >= 0 (got {capacity_rps!r})", field="capacity_rps")
    demand, arrivals = demand_rps(arrivals_rps, queue_lengths, params)
    over = demand > params.trigger_ratio * capacity_rps
    if demand < params.release_ratio * capacity_rps:
        return None, replace(state, armed=True, over_checks=0)
    over_checks = state.over_checks + 1 if over else 0
    state = replace(state, over_checks=over_checks)
    cooled = t_s - state.last_fired_s >= params.cooldown_s
    may_fire = (state.armed or cooled) and state.actions_this_interval < params.max_actions_per_interval
    if not (over and over_checks >= params.sustain_checks and may_fire):
        return None, state
    rate = demand * (1.0 + params.headroom)
    rate = min(max(rate, capacity_rps * params.min_step), capacity_rps * params.max_step)
    if params.max_rate_rps is not None:
        rate = min(rate, params.max_rate_rps)
    if rate <= capacity_rps:  # capped at what already runs: nothing to do
        return None, state
    reason = "arrivals" if arrivals > params.trigger_ratio * capacity_rps else "queue"
    action = GuardAction(t_s, rate, demand, capacity_rps, reason)
    return action, replace(state, armed=False, over_checks=0, last_fired_s=t_s,
                           actions_this_interval=state.actions_this_interval + 1,
                           actions_total=state.actions_total + 1)


def reset_interval(state: GuardState) -> GuardState:
    """Call at each interval decision: the per-interval firing budget starts again."""
    return replace(state, actions_this_interval=0)


def config_capacity_rps(problem: Problem, config: PipelineConfig) -> float:
    """The rate ``config`` sustains: the smallest stage throughput, replicas x batch / batch latency.

    Latencies are the problem's profile (the per-batch latency of the variant on its cores). A stage
    whose variant or batch is not in the profile sustains 0 rps (the guard then sees an overload).
    """
    caps = []
    for stage, sc in zip(problem.stages, config.stages, strict=True):
        variant = next((v for v in stage.variants if v.name == sc.variant), None)
        point = None if variant is None else next((p for p in variant.profile if p.batch == sc.batch), None)
        caps.append(0.0 if point is None or point.latency_s <= 0 else sc.replicas * sc.batch / point.latency_s)
    return min(caps) if caps else 0.0
