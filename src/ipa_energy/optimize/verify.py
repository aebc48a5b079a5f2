"""Every decision checked against its problem before anyone calls it feasible.

Whatever solver answered (exact, heuristic, or a buggy one), :func:`verify_decision` re-evaluates the
chosen (variant, batch, replicas) per stage from the problem alone
(:func:`ipa_energy.optimize.problem.verify_decision`: whole replicas >= 1 within ``max_replicas``, fixed
choices respected, capacity for the rate, the SLA, the core and power budgets) and checks that the
reported objective matches the re-evaluated one. An empty list means the decision is what it claims.
"""

from __future__ import annotations

import math

from ipa_energy.optimize.problem import Decision, Problem, evaluate
from ipa_energy.optimize.problem import verify_decision as constraint_violations


def verify_decision(problem: Problem, decision: Decision) -> list[str]:
    """The ways ``decision`` violates ``problem`` or misreports its objective (empty when sound)."""
    out = constraint_violations(problem, decision)
    if out or not decision.feasible:
        return out
    check = evaluate(problem, [(c.variant, c.batch, c.replicas) for c in decision.stages], "verify")
    claimed, actual = decision.objective, check.objective
    if claimed is None or actual is None or not math.isclose(claimed, actual, rel_tol=1e-6, abs_tol=1e-9):
        out.append(f"reported objective {claimed!r} differs from the re-evaluated {actual!r}")
    return out


__all__ = ["verify_decision"]
