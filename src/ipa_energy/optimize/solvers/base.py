"""The solver interface: ``Solver.solve(problem) -> Decision``, pure and timed."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from ipa_energy.optimize.problem import Decision, Option, Problem, decide, infeasible


class Solver(ABC):
    """Subclasses implement :meth:`_choose`; :meth:`solve` times it and evaluates the answer.

    ``solve_time_s`` covers everything the solver does for one decision (option enumeration and model
    building included); explaining an infeasible answer afterwards is not counted.
    """

    name: ClassVar[str]

    def solve(self, problem: Problem) -> Decision:
        t0 = time.perf_counter()
        choice = self._choose(problem)
        elapsed = time.perf_counter() - t0
        if choice is None:
            return infeasible(problem, self.name, elapsed)
        return decide(problem, choice, self.name, elapsed)

    @abstractmethod
    def _choose(self, problem: Problem) -> Sequence[Option] | None:
        """One option per stage maximising the objective, or None when no feasible choice exists."""
