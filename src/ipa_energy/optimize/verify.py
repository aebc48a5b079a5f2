"""Every decision checked against its problem before anyone calls it feasible.

Whatever solver answered (exact, heuristic, or a buggy one), :func:`verify_decision` re-evaluates the
chosen (variant, batch, replicas) per stage from the problem alone: the replicas are whole numbers
>= 1 and within ``max_replicas``; fixed variants, batches and replicas are respected; the replicas
sustain the rate; the end-to-end latency meets the SLA; the core and power budgets hold; and the reported
objective matches the re-evaluated one. An empty list means the decision is what it claims.
"""

from __future__ import annotations

import math

from ipa_energy.optimize.problem import Decision, Problem, evaluate


def verify_decision(problem: Problem, decision: Decision) -> list[str]:
    """The ways ``decision`` violates ``problem`` (empty when it is a valid feasible decision)."""
    if not decision.feasible:
        return []
    if len(decision.stages) != len(problem.stages):
        return [f"{len(decision.stages)} stages decided, the problem has {len(problem.stages)}"]
    out: list[str] = []
    for stage, ch in zip(problem.stages, decision.stages, strict=True):
        n = ch.replicas
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            out.append(f"stage {stage.name!r}: replicas must be a whole number >= 1 (got {n!r})")
        elif stage.fixed_replicas is None and n > problem.max_replicas:
            out.append(f"stage {stage.name!r}: {n} replicas exceed max_replicas={problem.max_replicas}")
        if isinstance(ch.batch, bool) or not isinstance(ch.batch, int) or ch.batch < 1:
            out.append(f"stage {stage.name!r}: batch must be a whole number >= 1 (got {ch.batch!r})")
        for what, fixed, got in (("variant", stage.fixed_variant, ch.variant), ("batch", stage.fixed_batch, ch.batch),
                                 ("replicas", stage.fixed_replicas, n)):
            if fixed is not None and got != fixed:
                out.append(f"stage {stage.name!r}: {what} is fixed to {fixed!r}, decided {got!r}")
    if out:
        return out
    try:
        check = evaluate(problem, [(c.variant, c.batch, c.replicas) for c in decision.stages], "verify")
    except ValueError as e:
        return [str(e)]
    if not check.feasible:
        return [check.reason or "infeasible"]
    claimed, actual = decision.objective, check.objective
    if claimed is None or actual is None or not math.isclose(claimed, actual, rel_tol=1e-6, abs_tol=1e-9):
        out.append(f"reported objective {claimed!r} differs from the re-evaluated {actual!r}")
    return out


__all__ = ["verify_decision"]
