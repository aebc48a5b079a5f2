"""Power-capped problem factories: every interval's plan respects a power-cap schedule.

:func:`power_capped` sets ``Problem.max_power_w`` to the tightest cap of the schedule in force at any
moment of ``[t_s, t_s + interval_s)`` (and of the base problem's own budget, if any), so the plan for an
interval never exceeds the cap during it. Every solver honours ``max_power_w`` exactly.

When no configuration meets the SLA under the cap (``over_cap``):

* ``"lowest-power"`` (default): the interval's problem becomes "the lowest planned power that meets the
  SLA", without the cap (weights: energy 1 per W, accuracy 1e-6 as a tie-break). That plan is the closest
  to the cap that serving can get; it is above it, and the factory counts such intervals in
  :attr:`PowerCappedFactory.state`. The run's ``time_above_cap_s`` shows the cost.
* ``"policy"``: the capped, infeasible problem goes to the policy, which runs its own fallback
  (:mod:`ipa_energy.adapt.fallback`): per stage the lowest-latency option that sustains the rate. That
  keeps the SLA best but ignores power entirely (more replicas at small batches: usually *more* power
  than the uncapped optimum), so it is not the default under a cap.

When the problem is infeasible even without the cap (the rate or the SLA cannot be met), it is passed on
unchanged and the policy's fallback runs, as for any system.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from ipa_energy.carbon.factory import BaseFactory, TimedProblemFactory, positive, timed
from ipa_energy.carbon.power_cap import PowerCapSchedule
from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import Problem, Weights
from ipa_energy.optimize.solvers.base import Solver

OverCap = Literal["lowest-power", "policy"]
OVER_CAP: tuple[str, ...] = ("lowest-power", "policy")
#: the objective of an interval whose cap cannot be met: least planned W, accuracy only breaks ties
LOWEST_POWER_WEIGHTS = Weights(accuracy=1e-6, cost=0.0, batch=0.0, energy=1.0)


@dataclass(frozen=True)
class CapState:
    """What a capped factory has seen: intervals asked, and those whose cap could not be met."""

    intervals: int = 0
    over_cap_intervals: int = 0
    last_over_cap_t_s: float | None = None


class PowerCappedFactory(TimedProblemFactory):
    def __init__(
        self, base: BaseFactory, schedule: PowerCapSchedule, interval_s: float, over_cap: OverCap,
        solver: Solver | None,
    ) -> None:
        self.base = timed(base)
        self.schedule = schedule
        self.interval_s = interval_s
        self.over_cap = over_cap
        self._solver = solver
        self.state = CapState()

    def cap_w(self, t_s: float) -> float:
        return self.schedule.min_over(t_s, t_s + self.interval_s)

    def _feasible(self, problem: Problem) -> bool:
        if self._solver is None:
            from ipa_energy.optimize.solvers import get_solver

            self._solver = get_solver("dp")
        return self._solver.solve(problem).feasible

    def __call__(self, rate_rps: float, t_s: float) -> Problem:
        problem = self.base(rate_rps, t_s)
        cap = self.cap_w(t_s)
        if problem.max_power_w is not None:
            cap = min(cap, problem.max_power_w)
        capped = replace(problem, max_power_w=cap)
        n = self.state.intervals + 1
        if self.over_cap == "lowest-power" and not self._feasible(capped):
            uncapped = replace(problem, max_power_w=None, weights=LOWEST_POWER_WEIGHTS)
            if self._feasible(uncapped):
                self.state = CapState(n, self.state.over_cap_intervals + 1, t_s)
                return uncapped
        self.state = replace(self.state, intervals=n)
        return capped


def power_capped(
    base: BaseFactory, schedule: PowerCapSchedule, *, interval_s: float = 0.0, over_cap: OverCap = "lowest-power",
    solver: Solver | None = None,
) -> PowerCappedFactory:
    """A factory whose ``max_power_w`` is the schedule's tightest cap during ``[t_s, t_s + interval_s)``;
    ``over_cap`` says what an interval whose cap cannot be met plans (module docstring). ``solver`` checks
    feasibility under the cap (default: the exact ``dp``)."""
    if over_cap not in OVER_CAP:
        raise ConfigError(f"must be one of {', '.join(OVER_CAP)} (got {over_cap!r})", field="over_cap")
    return PowerCappedFactory(base, schedule, positive(interval_s, "interval_s", allow_zero=True), over_cap, solver)


__all__ = ["LOWEST_POWER_WEIGHTS", "CapState", "PowerCappedFactory", "power_capped"]
