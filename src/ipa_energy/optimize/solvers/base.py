"""The solver interface: ``Solver.solve(problem) -> Decision``, pure and timed."""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import MAX_SLA_S, Decision, Option, Problem, decide, infeasible


class Solver(ABC):
    """Subclasses implement :meth:`_choose`; :meth:`solve` times it and evaluates the answer.

    ``solve_time_s`` covers everything the solver does for one decision (option enumeration and model
    building included); explaining an infeasible answer afterwards is not counted.
    """

    name: ClassVar[str]

    def solve(self, problem: Problem) -> Decision:
        # the two scalars every solver's arithmetic depends on (the full check is validate_problem, run at
        # the entry paths): refused here too, so no solver ever computes ticks past int64
        if not 0 < problem.arrival_rate < math.inf:
            raise ConfigError(f"must be a finite number > 0 (got {problem.arrival_rate})", field="arrival_rate")
        if not 0 < problem.sla_s <= MAX_SLA_S:
            raise ConfigError(f"must be in (0, {MAX_SLA_S:g}] s (got {problem.sla_s})", field="sla_s")
        t0 = time.perf_counter()
        choice = self._choose(problem)
        elapsed = time.perf_counter() - t0
        if choice is None:
            return infeasible(problem, self.name, elapsed)
        return decide(problem, choice, self.name, elapsed)

    @abstractmethod
    def _choose(self, problem: Problem) -> Sequence[Option] | None:
        """One option per stage maximising the objective, or None when no feasible choice exists."""
