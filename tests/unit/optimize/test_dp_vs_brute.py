"""The default solver returns the brute-force optimum on hundreds of seeded random problems."""

from __future__ import annotations

import pytest

from ipa_energy.optimize.random_problems import random_problem
from ipa_energy.optimize.solvers import get_solver


def _same(a, b) -> bool:  # type: ignore[no-untyped-def]
    if a.feasible != b.feasible:
        return False
    if not a.feasible:
        return True
    return abs(a.objective - b.objective) <= 1e-9 * max(1.0, abs(b.objective))


@pytest.mark.parametrize("mode", ["sum", "product"])
@pytest.mark.parametrize("budgets", [False, True])
def test_dp_matches_brute(mode: str, budgets: bool) -> None:
    dp, brute = get_solver("dp"), get_solver("brute")
    n_infeasible = 0
    for seed in range(150):
        p = random_problem(seed, accuracy_method=mode, budgets=budgets, fixed=seed % 2 == 0)
        a, b = dp.solve(p), brute.solve(p)
        assert _same(a, b), (seed, a, b)
        n_infeasible += not b.feasible
    assert 0 < n_infeasible < 150  # the sample covers both outcomes
