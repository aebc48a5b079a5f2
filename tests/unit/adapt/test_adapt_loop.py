"""The adaptation loop and policy, driven through the in-memory backend with a manual clock."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ipa_energy.adapt import AdaptParams, Policy, Snapshot, run_adaptation
from ipa_energy.adapt.fallback import fallback_config
from ipa_energy.backends.memory import InMemoryBackend
from ipa_energy.optimize.problem import Problem, ProfilePoint, Stage, Variant, Weights
from ipa_energy.optimize.solvers import get_solver


class LastValue:
    def predict(self, history_rps: NDArray[np.float64]) -> float:
        return float(history_rps[-1]) if len(history_rps) else 1.0


def _problem(rate: float, sla_s: float = 1.0) -> Problem:
    small = Variant("small", 0.5, 1, (ProfilePoint(1, 0.1, 1.0), ProfilePoint(4, 0.3, 3.0)))
    big = Variant("big", 0.9, 2, (ProfilePoint(1, 0.4, 4.0), ProfilePoint(4, 1.0, 12.0)))
    return Problem(
        arrival_rate=rate, sla_s=sla_s, stages=(Stage("only", (small, big)),), max_replicas=10,
        weights=Weights(accuracy=10.0, cost=0.1),
    )


def test_loop_decides_every_interval_and_applies_only_changes() -> None:
    rates = np.array([2.0] * 30 + [20.0] * 30)
    backend = InMemoryBackend(rates)
    policy = Policy(lambda r, t: _problem(r), get_solver("dp"), LastValue())
    steps = run_adaptation(backend, backend.clock, policy, duration_s=60, params=AdaptParams(interval_s=10))
    assert [s.t_s for s in steps] == [0, 10, 20, 30, 40, 50]
    # at t=30 the history holds seconds 0..29, all at 2 rps
    assert [round(s.predicted_rate_rps) for s in steps] == [1, 2, 2, 2, 20, 20]
    # configurations are applied only when they change
    changes = [s.config for i, s in enumerate(steps) if i == 0 or s.config != steps[i - 1].config]
    assert [c for _, c in backend.applied] == changes
    assert len(changes) < len(steps)
    assert backend.applied[0][0] == 0
    # at 20 rps the solver needs more replicas than at 2 rps
    assert steps[-1].config.stages[0].replicas > steps[1].config.stages[0].replicas
    assert all(s.source == "solver" for s in steps)


def test_infeasible_interval_falls_back_to_fastest_sustaining_option() -> None:
    problem = _problem(5.0, sla_s=0.05)  # nothing meets a 50 ms SLA
    policy = Policy(lambda r, t: _problem(r, 0.05), get_solver("dp"), LastValue())
    step = policy.decide(Snapshot(0.0, np.array([5.0]), None))
    assert not step.decision.feasible and step.source == "fallback"
    cfg = fallback_config(problem)
    assert cfg == step.config
    assert cfg.stages[0].variant == "small" and cfg.stages[0].batch == 1
    assert cfg.stages[0].replicas == 1  # 1 replica at 0.1 s/request sustains 10 rps >= 5


def test_fallback_uses_replica_cap_when_rate_is_unreachable() -> None:
    problem = _problem(1000.0)
    cfg = fallback_config(problem)
    assert cfg.stages[0].replicas == problem.max_replicas
    assert cfg.stages[0].variant == "small" and cfg.stages[0].batch == 4  # highest throughput


def test_min_rate_and_initial_rate() -> None:
    policy = Policy(lambda r, t: _problem(r), get_solver("dp"), LastValue(), min_rate_rps=0.5,
                    initial_rate_rps=7.0)
    assert policy.predict(np.zeros(0)) == 7.0
    assert policy.predict(np.array([0.0])) == 0.5
