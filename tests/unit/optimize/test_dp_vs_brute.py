"""The default solver returns the brute-force optimum on hundreds of seeded random problems."""

from __future__ import annotations

import pytest

from ipa_energy.optimize.problem import same_optimum
from ipa_energy.optimize.random_problems import random_problem
from ipa_energy.optimize.solvers import get_solver


@pytest.mark.parametrize("mode", ["sum", "product"])
@pytest.mark.parametrize("budgets", [False, True])
def test_dp_matches_brute(mode: str, budgets: bool) -> None:
    dp, brute = get_solver("dp"), get_solver("brute")
    n_infeasible = 0
    for seed in range(150):
        p = random_problem(seed, accuracy_method=mode, budgets=budgets, fixed=seed % 2 == 0)
        a, b = dp.solve(p), brute.solve(p)
        assert same_optimum(a, b), (seed, a, b)
        n_infeasible += not b.feasible
    assert 0 < n_infeasible < 150  # the sample covers both outcomes
