"""One adaptation decision: snapshot -> planned rate -> problem -> solver -> verified configuration.

The planned rate is the predictor's answer, or with a :class:`Horizon` the peak over the whole span the
decision serves (:func:`ipa_energy.adapt.horizon.plan_rate`). A guard decision
(:meth:`Policy.decide_guard`) re-plans between intervals for the rate the guard saw, keeping each
stage's running variant (only replicas and batch change: the start-up delay, not a switch) and is
verified like any decision.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from ipa_energy.adapt.fallback import config_power_w, fallback_config
from ipa_energy.adapt.horizon import decision_delay_s, plan_rate
from ipa_energy.backends.base import PipelineConfig, StageConfig
from ipa_energy.optimize.problem import Decision, Problem
from ipa_energy.optimize.solvers.base import Solver
from ipa_energy.optimize.verify import verify_decision
from ipa_energy.predict.base import Predictor


@dataclass(frozen=True)
class Snapshot:
    """What the policy may look at: time, the monitored per-second arrivals (oldest first), the config."""

    t_s: float
    history_rps: NDArray[np.float64]
    current: PipelineConfig | None


@dataclass(frozen=True)
class AdaptationStep:
    """The record of one interval's decision."""

    t_s: float
    predicted_rate_rps: float
    decision: Decision
    config: PipelineConfig
    #: "solver" when the solver's answer was applied, "fallback" when the problem was infeasible,
    #: "rejected" when the solver called a decision feasible that the problem check refused; a guard
    #: decision between intervals is "guard" (the solver's verified answer), "guard-fallback" or
    #: "guard-rejected"
    source: str
    changed_stages: tuple[int, ...]
    #: wall time of the whole decision (prediction + problem building + solve)
    decision_time_s: float
    #: the exact optimum of the same problem when the policy's solver is a heuristic (else None)
    reference_objective: float | None = None
    #: why the solver's "feasible" answer was refused by :func:`ipa_energy.optimize.verify.verify_decision`
    rejected: tuple[str, ...] = ()
    #: planned power (W: idle + dynamic at the problem's rate) of the configuration applied, fallback too
    planned_power_w: float | None = None


@dataclass(frozen=True)
class Horizon:
    """Start-up-aware planning: plan for the peak over [t, t + delay + interval_s].

    ``delays_s()`` returns the backend's stated ``(replica_startup_s, variant_switch_s)``; it is read at
    each decision (a real backend learns its start-up time as replicas load)."""

    delays_s: Callable[[], tuple[float, float]]
    interval_s: float = 10.0

    def delay_s(self) -> float:
        startup, switch = self.delays_s()
        return decision_delay_s(replica_startup_s=startup, variant_switch_s=switch)


GUARD_SOURCES = frozenset({"guard", "guard-fallback", "guard-rejected"})


class Policy:
    """Predict, build the problem for the predicted rate, solve, verify; fall back when infeasible.

    Every answer is checked against the problem before it is applied: a decision the solver calls
    feasible but that breaks the problem (too few replicas, over the SLA or a budget, replicas < 1) is
    recorded as ``rejected`` and replaced by the fallback, never trusted.

    ``problem_for(rate_rps, t_s)`` builds the canonical problem for the planned rate at run time
    ``t_s`` (the pipeline, system preset and weights are bound in it; a carbon-aware or power-capped
    factory also reads the time, :mod:`ipa_energy.carbon.factory`), so every decision can be saved with
    ``problem_to_dict`` and replayed alone.
    """

    def __init__(
        self,
        problem_for: Callable[[float, float], Problem],
        solver: Solver,
        predictor: Predictor,
        *,
        min_rate_rps: float = 1.0,
        initial_rate_rps: float | None = None,
        reference_solver: Solver | None = None,
        horizon: Horizon | None = None,
    ) -> None:
        self.problem_for = problem_for
        self.solver = solver
        self.predictor = predictor
        self.min_rate_rps = min_rate_rps
        self.initial_rate_rps = initial_rate_rps
        self.reference_solver = reference_solver
        self.horizon = horizon

    def predict(self, history_rps: NDArray[np.float64]) -> float:
        """The rate to plan for: the predictor's forecast, or the horizon's peak over the decision's span."""
        if len(history_rps) == 0 and self.initial_rate_rps is not None:
            rate = self.initial_rate_rps
        elif self.horizon is not None and len(history_rps):
            rate = plan_rate(history_rps, self.predictor.predict, delay_s=self.horizon.delay_s(),
                             interval_s=self.horizon.interval_s).rate_rps
        else:
            rate = float(self.predictor.predict(history_rps))
        if not np.isfinite(rate):
            rate = self.min_rate_rps
        return max(self.min_rate_rps, rate)

    def problem(self, rate_rps: float, t_s: float) -> Problem:
        """The canonical problem at ``rate_rps`` and run time ``t_s`` (the one place the policy builds one)."""
        return self.problem_for(rate_rps, t_s)

    def decide(self, snap: Snapshot) -> AdaptationStep:
        t0 = time.perf_counter()
        rate = self.predict(snap.history_rps)
        return self._solve(snap, rate, self.problem(rate, snap.t_s), t0, guard=False)

    def decide_guard(self, snap: Snapshot, rate_rps: float) -> AdaptationStep:
        """A guard's scale-up at ``rate_rps``: the same problem with each stage's running variant fixed."""
        t0 = time.perf_counter()
        problem = self.problem(rate_rps, snap.t_s)
        if snap.current is not None:
            problem = replace(problem, stages=tuple(
                replace(st, fixed_variant=sc.variant)
                for st, sc in zip(problem.stages, snap.current.stages, strict=True)
            ))
        return self._solve(snap, rate_rps, problem, t0, guard=True)

    def _solve(self, snap: Snapshot, rate: float, problem: Problem, t0: float, *, guard: bool) -> AdaptationStep:
        decision = self.solver.solve(problem)
        rejected = tuple(verify_decision(problem, decision))
        if decision.feasible and not rejected:
            config = PipelineConfig(
                tuple(StageConfig(s.variant, s.batch, s.replicas) for s in decision.stages)
            )
            source = "solver"
        else:
            config = fallback_config(problem)
            source = "rejected" if rejected else "fallback"
        if guard:
            source = "guard" if source == "solver" else f"guard-{source}"
        elapsed = time.perf_counter() - t0
        reference = None
        if self.reference_solver is not None and not guard:
            reference = self.reference_solver.solve(problem).objective
        return AdaptationStep(
            t_s=snap.t_s,
            predicted_rate_rps=rate,
            decision=decision,
            config=config,
            source=source,
            changed_stages=config.diff(snap.current),
            decision_time_s=elapsed,
            reference_objective=reference,
            rejected=rejected,
            planned_power_w=decision.power_w if source.endswith("solver") or source == "guard"
            else config_power_w(problem, config),
        )
