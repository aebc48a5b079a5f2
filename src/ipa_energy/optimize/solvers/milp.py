"""The compact MILP on HiGHS: one binary per (stage, option), S + 1 constraints (plus budgets).

Formulation (x_{s,o} binary for every option o of stage s from ``problem.stage_options``)::

    sum_o x_{s,o} = 1                                  for every stage s
    sum_{s,o} d_{s,o} x_{s,o} <= D                      the SLA, in integer ticks (see below)
    sum_{s,o} cores_{s,o} x_{s,o} <= max_cores          when set
    sum_{s,o} power_{s,o} x_{s,o} <= max_power_w        when set
    maximise  w_a * PAS - sum_{s,o} penalty_{s,o} x_{s,o}

PAS "sum" is linear: sum acc_o x_{s,o}. PAS "product" is made linear exactly by disaggregation: the
running product P_s = P_{s-1} * acc(chosen o) is split into y_{s,o} = P_{s-1} * x_{s,o}, with
L_{s-1} x <= y_{s,o} <= U_{s-1} x and sum_o y_{s,o} = P_{s-1}; then P_s = sum_o acc_o y_{s,o}.
Because exactly one x_{s,o} is 1, y of the chosen option equals P_{s-1} and the others are 0, so P_S is
the product itself, not a relaxation. L and U are products of the smallest / largest accuracy per
stage, so accuracies above 1 are handled too.

Exactness against HiGHS's tolerances (the pitfalls of section 2 of the reference):

* The SLA row is written in integer nanosecond ticks (``Option.latency_ticks``), shifted by each stage's
  fastest option and divided by the gcd of all coefficients (rhs floored): an exact integer transform
  that keeps coefficients small. A violation is then at least one unit, far above the 1e-9 tolerance.
* ``mip_rel_gap = mip_abs_gap = 0``; feasibility tolerances 1e-9 (HiGHS prunes nodes within the MIP
  feasibility tolerance of the incumbent, so the default 1e-6 can return a worse "optimal" answer).
* Every answer is re-checked with the canonical :func:`~ipa_energy.optimize.problem.is_feasible`; an
  answer that only a tolerance made feasible (e.g. a float power budget) is cut off with a no-good cut
  and the model re-solved, so the returned choice is always truly feasible.

The HiGHS plumbing (:class:`LinearModel`) is shared with ``ipa_milp``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ipa_energy.errors import SolverError, SolverTimeLimit
from ipa_energy.optimize.problem import BUDGET_RTOL, Option, Problem, is_feasible, stage_options
from ipa_energy.optimize.solvers.base import Solver

#: HiGHS feasibility tolerances used by both MILP solvers (defaults are 1e-6 / 1e-7).
FEASIBILITY_TOL = 1e-9
#: HiGHS dual feasibility (optimality) tolerance, its smallest allowed value (default 1e-7): an option
#: better by less than this is not told apart (dp and brute are exact).
OPTIMALITY_TOL = 1e-10
#: Largest coefficient, bound or cost a MILP is given: past it doubles are no longer exact integers and
#: HiGHS's tolerances (and its 1e20 "infinity") decide instead of the model. Larger raises SolverError.
MAX_COEFFICIENT = 2.0**53
#: No-good re-solves after which a MILP solver gives up (each one removes one tolerance-feasible answer).
MAX_RESOLVES = 100


class Deadline:
    """What is left of a solver's ``time_limit_s`` (None = no limit), model building and re-solves included."""

    def __init__(
        self, solver: str, time_limit_s: float | None, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.solver = solver
        self.time_limit_s = time_limit_s
        self._clock = clock
        self._start_s = clock()

    def remaining_s(self) -> float:
        """Seconds left (inf without a limit); raises :class:`SolverTimeLimit` once none is left."""
        if self.time_limit_s is None:
            return math.inf
        left = self.time_limit_s - (self._clock() - self._start_s)
        if left <= 0:
            raise SolverTimeLimit(self.solver, self.time_limit_s)
        return left


@dataclass
class LinearModel:
    """A small builder for a MILP (maximise c.x, row bounds, integrality) solved by HiGHS in one call."""

    col_lower: list[float] = field(default_factory=list)
    col_upper: list[float] = field(default_factory=list)
    col_cost: list[float] = field(default_factory=list)
    col_integer: list[bool] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    row_index: list[list[int]] = field(default_factory=list)
    row_value: list[list[float]] = field(default_factory=list)

    @property
    def num_cols(self) -> int:
        return len(self.col_cost)

    @property
    def num_rows(self) -> int:
        return len(self.row_lower)

    def var(self, lower: float, upper: float, cost: float = 0.0, integer: bool = False) -> int:
        self.col_lower.append(float(lower))
        self.col_upper.append(float(upper))
        self.col_cost.append(float(cost))
        self.col_integer.append(integer)
        return self.num_cols - 1

    def binary(self, cost: float = 0.0) -> int:
        return self.var(0.0, 1.0, cost, integer=True)

    def row(self, lower: float, upper: float, index: Sequence[int], value: Sequence[float]) -> None:
        self.row_lower.append(float(lower))
        self.row_upper.append(float(upper))
        self.row_index.append(list(index))
        self.row_value.append([float(v) for v in value])

    def _check_magnitudes(self, solver: str) -> None:
        """Refuse a model HiGHS cannot solve exactly (a coefficient, finite bound or cost over the limit)."""
        finite = [abs(x) for x in (*self.col_lower, *self.col_upper, *self.row_lower, *self.row_upper)
                  if math.isfinite(x)]
        values = [abs(v) for r in self.row_value for v in r]
        costs = [abs(c) for c in self.col_cost]
        worst = max([0.0, *finite, *values, *costs])
        if not worst <= MAX_COEFFICIENT:
            raise SolverError(
                f"{solver}: a model value of {worst:.3g} exceeds {MAX_COEFFICIENT:.3g}, past which HiGHS does not "
                "solve exactly at these magnitudes (use dp)"
            )

    def solve(self, deadline: Deadline) -> list[float] | None:
        """Maximise; the column values at the proven optimum, or None when infeasible.

        Raises :class:`SolverTimeLimit` when the deadline stops the search, :class:`SolverError` on any
        other status that is neither optimal nor infeasible.
        """
        import highspy
        import numpy as np

        self._check_magnitudes(deadline.solver)
        lp = highspy.HighsLp()
        lp.num_col_ = self.num_cols
        lp.num_row_ = self.num_rows
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.col_cost_ = np.asarray(self.col_cost, dtype=np.float64)
        lp.col_lower_ = np.asarray(self.col_lower, dtype=np.float64)
        lp.col_upper_ = np.asarray(self.col_upper, dtype=np.float64)
        lp.row_lower_ = np.asarray(self.row_lower, dtype=np.float64)
        lp.row_upper_ = np.asarray(self.row_upper, dtype=np.float64)
        starts = [0]
        for idx in self.row_index:
            starts.append(starts[-1] + len(idx))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_ = self.num_cols
        lp.a_matrix_.num_row_ = self.num_rows
        lp.a_matrix_.start_ = np.asarray(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.asarray([i for r in self.row_index for i in r], dtype=np.int32)
        lp.a_matrix_.value_ = np.asarray([v for r in self.row_value for v in r], dtype=np.float64)
        kint, kcont = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
        lp.integrality_ = [kint if i else kcont for i in self.col_integer]

        # highspy.Highs (the high-level wrapper) installs a logging callback whose first use prints a
        # banner on stdout, which would corrupt `solve --json`; the plain binding prints nothing.
        h: Any = highspy._Highs()  # type: ignore[attr-defined]
        for name, value in (
            ("output_flag", False),
            ("threads", 1),
            ("random_seed", 0),
            ("mip_rel_gap", 0.0),
            ("mip_abs_gap", 0.0),
            ("mip_feasibility_tolerance", FEASIBILITY_TOL),
            ("primal_feasibility_tolerance", FEASIBILITY_TOL),
            # optimality: objective differences below HiGHS's default 1e-7 would otherwise be ignored
            ("dual_feasibility_tolerance", OPTIMALITY_TOL),
            ("time_limit", deadline.remaining_s()),
        ):
            h.setOptionValue(name, value)
        h.passModel(lp)
        h.run()
        status = h.getModelStatus()
        ms = highspy.HighsModelStatus
        if status == ms.kOptimal:
            return list(h.getSolution().col_value)
        if status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
            return None
        if status == ms.kTimeLimit:
            raise SolverTimeLimit(deadline.solver, deadline.time_limit_s or math.inf)
        raise SolverError(f"{deadline.solver}: HiGHS ended with status {h.modelStatusToString(status)}")


def power_cap_w(problem: Problem) -> float:
    """The power budget as every solver applies it (the same slack as ``Problem.power_ok``)."""
    assert problem.max_power_w is not None
    return problem.max_power_w * (1 + BUDGET_RTOL) + 1e-12


def scaled_integer_row(coefs: Sequence[int], rhs: int) -> tuple[list[int], int]:
    """Divide an integer row ``coefs . x <= rhs`` (x integer) by the gcd of its coefficients, exactly."""
    g = 0
    for c in coefs:
        g = math.gcd(g, c)
    if g <= 1:
        return list(coefs), rhs
    return [c // g for c in coefs], rhs // g


def add_product_pas(
    model: LinearModel, selectors: Sequence[Sequence[tuple[int, float]]], weight: float
) -> None:
    """Add w * prod_s acc(chosen in s) to the objective, exactly (disaggregated McCormick terms).

    ``selectors[s]`` lists (binary column, accuracy) of stage s; exactly one binary per stage is 1.
    """
    lo = min(a for _, a in selectors[0])
    hi = max(a for _, a in selectors[0])
    prev: list[tuple[int, float]] = list(selectors[0])  # P_0 = sum acc * x
    for s in range(1, len(selectors)):
        ys: list[tuple[int, float]] = []
        for col, acc in selectors[s]:
            y = model.var(0.0, hi)
            model.row(-math.inf, 0.0, [y, col], [1.0, -hi])  # y <= U x
            model.row(0.0, math.inf, [y, col], [1.0, -lo])  # y >= L x
            ys.append((y, acc))
        # sum_o y_{s,o} = P_{s-1}
        model.row(
            0.0, 0.0, [y for y, _ in ys] + [c for c, _ in prev], [1.0] * len(ys) + [-a for _, a in prev]
        )
        lo *= min(a for _, a in selectors[s])
        hi *= max(a for _, a in selectors[s])
        prev = ys
    for col, acc in prev:
        model.col_cost[col] += weight * acc


class CompactMILPSolver(Solver):
    """Exact; one binary per option. ``time_limit_s`` (None = none) raises SolverTimeLimit when hit."""

    name = "milp"

    def __init__(self, time_limit_s: float | None = None) -> None:
        import highspy  # noqa: F401  (loaded once here: solve_time_s measures decisions, not the import)

        self.time_limit_s = time_limit_s

    def _choose(self, problem: Problem) -> Sequence[Option] | None:
        deadline = Deadline(self.name, self.time_limit_s)
        per_stage = [stage_options(problem, s) for s in range(len(problem.stages))]
        if any(not opts for opts in per_stage):
            return None
        # Exact presolve in integers: drop options that cannot fit even with the fastest / leanest
        # option everywhere else.
        base_t = [min(o.latency_ticks for o in opts) for opts in per_stage]
        slack_t = problem.sla_ticks - sum(base_t)
        base_c = [min(o.cores for o in opts) for opts in per_stage]
        slack_c = problem.max_cores - sum(base_c) if problem.max_cores is not None else None
        if slack_t < 0 or (slack_c is not None and slack_c < 0):
            return None
        kept = [
            [
                o for o in opts
                if o.latency_ticks - bt <= slack_t and (slack_c is None or o.cores - bc <= slack_c)
            ]
            for opts, bt, bc in zip(per_stage, base_t, base_c, strict=True)
        ]
        if any(not opts for opts in kept):  # each bound alone could be met, not both in this stage
            return None

        model = LinearModel()
        wa = problem.weights.accuracy
        product = problem.accuracy_method == "product"
        stages: list[list[tuple[int, Option]]] = []  # (binary column, option) per stage
        for opts in kept:
            stage = [(model.binary(-o.penalty + (0.0 if product else wa * o.accuracy)), o) for o in opts]
            model.row(1.0, 1.0, [c for c, _ in stage], [1.0] * len(stage))
            stages.append(stage)
        flat = [pair for stage in stages for pair in stage]
        shifted = [o.latency_ticks - base_t[o.stage_index] for _, o in flat]
        if any(shifted):
            coefs, rhs = scaled_integer_row(shifted, slack_t)
            model.row(-math.inf, rhs, [c for c, _ in flat], coefs)
        if slack_c is not None:
            coefs, rhs = scaled_integer_row([o.cores - base_c[o.stage_index] for _, o in flat], slack_c)
            model.row(-math.inf, rhs, [c for c, _ in flat], coefs)
        if problem.max_power_w is not None:
            model.row(-math.inf, power_cap_w(problem), [c for c, _ in flat], [o.power_w for _, o in flat])
        if product:
            add_product_pas(model, [[(c, o.accuracy) for c, o in stage] for stage in stages], wa)

        for _ in range(MAX_RESOLVES):
            x = model.solve(deadline)
            if x is None:
                return None
            chosen = [max(stage, key=lambda pair: x[pair[0]]) for stage in stages]
            choice = [o for _, o in chosen]
            if is_feasible(problem, choice):
                return choice
            # feasible only within HiGHS's tolerance: forbid exactly this combination and re-solve
            model.row(-math.inf, len(chosen) - 1, [c for c, _ in chosen], [1.0] * len(chosen))
        raise SolverError(f"{self.name}: no exactly feasible answer after {MAX_RESOLVES} re-solves")
