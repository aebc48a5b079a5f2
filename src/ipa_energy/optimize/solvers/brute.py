"""Exhaustive search over every combination of stage options: the reference for tests (small problems)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ipa_energy.optimize.problem import Option, Problem, is_feasible, objective_of, stage_options
from ipa_energy.optimize.solvers.base import Solver


class BruteForceSolver(Solver):
    name = "brute"

    def _choose(self, problem: Problem) -> Sequence[Option] | None:
        per_stage = [stage_options(problem, i) for i in range(len(problem.stages))]
        best: tuple[Option, ...] | None = None
        best_value = float("-inf")
        for combo in itertools.product(*per_stage):
            if not is_feasible(problem, combo):
                continue
            value = objective_of(problem, combo)
            if value > best_value:
                best, best_value = combo, value
        return best
