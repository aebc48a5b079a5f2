"""Exact Pareto dynamic programme over stages (the problem is a multiple-choice knapsack).

Replicas enter only the throughput constraint and (negatively) the objective, so each (variant, batch)
becomes one option with its minimal replica count. Per stage, options dominated in every criterion are
dropped; stages are then combined one at a time, keeping only non-dominated partial solutions:

* sum PAS, no budgets: criteria (latency ticks, -value) -> a 2-D skyline by sort-and-scan;
* product PAS: (ticks, P - w_a*A*hi, P - w_a*A*lo) with A the accuracy product so far, P the penalty so
  far and [lo, hi] the range of the product still to come: the final value w_a*A*X - P - Q is linear in
  X, so being as good at both ends of [lo, hi] means being as good for every completion;
* budgets add the cores and/or power_w used so far as criteria.

With up to 3 criteria the non-dominated filter sorts the labels lexicographically and checks each against
a 2-D staircase of the kept ones (one bisection per label); with more it compares kept labels pairwise.

Partial solutions that cannot meet the SLA or a budget even with the cheapest remaining stages are cut.
In the general (k-D) case a quick beam pass first finds a feasible incumbent, and the exact pass then also
cuts partial solutions whose optimistic bound (best value per remaining stage, or the largest remaining
accuracy product with the smallest remaining penalties) cannot reach it. The last stage keeps only the
best feasible label. Every step is exact: a discarded label is dominated by a kept one in every criterion
that matters later, or cannot beat a solution already found.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from ipa_energy.optimize.problem import (
    BUDGET_RTOL,
    MAX_COUNT,
    TICKS_PER_S,
    Option,
    Problem,
    exact_decimal,
)
from ipa_energy.optimize.solvers.base import Solver
from ipa_energy.rules import stage_power_w

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
#: Labels kept per stage by the quick beam pass that finds an incumbent for bound pruning.
BEAM_WIDTH = 32
#: Back pointers per stage: (parent label, option index) of every kept label.
_Back = list[tuple[NDArray[np.intp], NDArray[np.intp]]]


@dataclass(frozen=True)
class _StageArrays:
    """A stage's feasible options as parallel arrays (same arithmetic as ``problem.stage_options``)."""

    variant: tuple[str, ...]
    batch: I64
    replicas: I64
    accuracy: F64
    cores: I64
    latency_s: F64
    ticks: I64
    power_w: F64
    penalty: F64

    def __len__(self) -> int:
        return len(self.batch)

    def take(self, idx: NDArray[np.intp]) -> _StageArrays:
        return _StageArrays(
            tuple(self.variant[i] for i in idx), self.batch[idx], self.replicas[idx], self.accuracy[idx],
            self.cores[idx], self.latency_s[idx], self.ticks[idx], self.power_w[idx], self.penalty[idx],
        )

    def option(self, stage_index: int, i: int) -> Option:
        return Option(
            stage_index, self.variant[i], int(self.batch[i]), int(self.replicas[i]),
            float(self.accuracy[i]), int(self.cores[i]), float(self.latency_s[i]), int(self.ticks[i]),
            float(self.power_w[i]), float(self.penalty[i]),
        )


def _min_replicas_vec(lam: float, batch: I64, lat: F64, cap: int) -> tuple[NDArray[np.intp], I64]:
    """(indices, replicas) of the options whose smallest sufficient replica count is at most ``cap``.

    Decided in floats first (an overflowed or huge quotient never reaches int64), then exactly for the
    quotients within 1e-9 of an integer, as :func:`~ipa_energy.optimize.problem.min_replicas` does.
    """
    with np.errstate(over="ignore"):  # an overflowed quotient is inf: over any cap
        q = lam * lat / batch
    n = np.ceil(q)
    idx = np.flatnonzero(n <= float(cap) + 1.0)  # inf and nan fall out; cap <= 2**53 is float-exact
    q, n = q[idx], n[idx]
    near = np.abs(q - np.rint(q)) <= 1e-9 * np.maximum(1.0, q)
    if near.any():
        lam_x = exact_decimal(lam)
        for i in np.flatnonzero(near):
            n[i] = math.ceil(lam_x * exact_decimal(float(lat[idx[i]])) / Fraction(int(batch[idx[i]])))
    n = np.maximum(n, 1.0)
    ok = n <= float(cap)
    return idx[ok], n[ok].astype(np.int64)


def stage_arrays(problem: Problem, s: int) -> _StageArrays:
    stage = problem.stages[s]
    names: list[str] = []
    acc: list[float] = []
    cores_per: list[int] = []
    batch: list[int] = []
    lat: list[float] = []
    energy: list[float] = []
    for v in stage.variants:
        if stage.fixed_variant is not None and v.name != stage.fixed_variant:
            continue
        for p in v.profile:
            if stage.fixed_batch is not None and p.batch != stage.fixed_batch:
                continue
            names.append(v.name)
            acc.append(v.accuracy)
            cores_per.append(v.cores)
            batch.append(p.batch)
            lat.append(p.latency_s)
            energy.append(p.energy_j)
    lam = problem.arrival_rate
    cap = min(stage.fixed_replicas if stage.fixed_replicas is not None else problem.max_replicas, MAX_COUNT)
    b = np.asarray(batch, dtype=np.int64)
    lat_a = np.asarray(lat, dtype=np.float64)
    cores_a = np.asarray(cores_per, dtype=np.int64)
    idx, n = _min_replicas_vec(lam, b, lat_a, cap) if len(b) else (np.zeros(0, np.intp), np.zeros(0, np.int64))
    if stage.fixed_replicas is not None:
        n = np.full_like(n, stage.fixed_replicas)
    # counts over MAX_COUNT are not representable (decided in floats: no int64 product can overflow)
    fits = n.astype(np.float64) * cores_a[idx] <= float(MAX_COUNT)
    idx, n = idx[fits], n[fits]
    b, lat_a = b[idx], lat_a[idx]
    with np.errstate(over="ignore"):  # a batch-fill time past float range is inf: over the SLA below
        latency_s = lat_a + (b - 1) / lam
    # an option slower than the SLA on its own is never feasible: dropped before its ticks exist
    within = np.flatnonzero(latency_s <= 2 * problem.sla_s)
    idx, n, b, latency_s = idx[within], n[within], b[within], latency_s[within]
    ticks = np.rint(latency_s * TICKS_PER_S).astype(np.int64)
    within = np.flatnonzero(ticks <= problem.sla_ticks)
    idx, n, b, latency_s, ticks = idx[within], n[within], b[within], latency_s[within], ticks[within]
    acc_a = np.asarray(acc, dtype=np.float64)[idx]
    cores = cores_a[idx] * n
    e = np.asarray(energy, dtype=np.float64)[idx]
    power = stage_power_w(cores, problem.idle_power_w_per_core, lam, e, b)
    w = problem.weights
    penalty = w.cost * cores + w.batch * b + w.energy * power
    return _StageArrays(tuple(names[i] for i in idx), b, n, acc_a, cores, latency_s, ticks, power, penalty)


def _skyline2(t: NDArray[np.int64], v: F64) -> NDArray[np.intp]:
    """Indices of points not dominated under (minimise t, maximise v)."""
    order = np.lexsort((-v, t))
    vs = v[order]
    keep = np.empty(len(vs), dtype=bool)
    if len(vs):
        keep[0] = True
        keep[1:] = vs[1:] > np.maximum.accumulate(vs)[:-1]
    return order[keep]


def _interval_product(ranges: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """[lo, hi] of a product of one factor from each [a, b] (interval arithmetic: any signs)."""
    lo = hi = 1.0
    for a, b in ranges:
        cands = (lo * a, lo * b, hi * a, hi * b)
        lo, hi = min(cands), max(cands)
    return lo, hi


def _nondominated(c: F64) -> NDArray[np.intp]:
    """Indices of rows of ``c`` (n x k, all minimised) not dominated by another row (one of equals kept),
    in lexicographic order of the rows.

    After a lexicographic sort a row can only be weakly dominated by an earlier one, so a row is kept iff no
    earlier row is <= in every criterion but the first. For k <= 3 that is a 2-D question answered by a
    staircase of the kept rows (c2 ascending, c3 descending) with one bisection per row; larger k compares
    each kept row with every later one.
    """
    n, k = c.shape
    if n <= 1:
        return np.arange(n)
    order = np.lexsort(c.T[::-1])
    cs = c[order]
    if k <= 3:
        c2: list[float] = cs[:, 1].tolist()
        c3: list[float] = cs[:, k - 1].tolist()
        s2: list[float] = []
        s3: list[float] = []
        kept: list[int] = []
        bisect_right = bisect.bisect_right
        for i in range(n):
            a = c2[i]
            b = c3[i]
            p = bisect_right(s2, a)
            if p and s3[p - 1] <= b:
                continue  # an earlier row is <= in c2 and c3 (and in c1, by the sort)
            kept.append(i)
            q = p
            end = len(s2)
            while q < end and s3[q] >= b:  # staircase steps the new row covers
                q += 1
            s2[p:q] = [a]
            s3[p:q] = [b]
        return order[np.asarray(kept, dtype=np.intp)]
    alive = np.ones(n, dtype=bool)
    for i in range(n):
        if not alive[i]:
            continue
        rest = alive[i + 1 :]
        if not rest.any():
            break
        dom = np.all(cs[i] <= cs[i + 1 :], axis=1)
        rest &= ~dom
    return order[alive]


class ParetoDPSolver(Solver):
    name = "dp"

    def _choose(self, problem: Problem) -> Sequence[Option] | None:
        arrays = [stage_arrays(problem, s) for s in range(len(problem.stages))]
        if any(len(a) == 0 for a in arrays):
            return None
        if problem.accuracy_method == "sum" and problem.max_cores is None and problem.max_power_w is None:
            return self._choose_2d(problem, arrays)
        return self._choose_general(problem, arrays)

    # -- sum PAS, no budgets: 2-D skyline -------------------------------------------------------------
    def _choose_2d(self, problem: Problem, arrays: list[_StageArrays]) -> Sequence[Option] | None:
        wa = problem.weights.accuracy
        pruned = []
        for a in arrays:
            pruned.append(a.take(_skyline2(a.ticks, wa * a.accuracy - a.penalty)))
        arrays = pruned
        sla = problem.sla_ticks
        rest = np.cumsum([int(a.ticks.min()) for a in arrays[::-1]])[::-1].tolist() + [0]
        ft = np.zeros(1, dtype=np.int64)
        fv = np.zeros(1, dtype=np.float64)
        back: list[tuple[NDArray[np.intp], NDArray[np.intp]]] = []
        for s, a in enumerate(arrays):
            m = len(a)
            t = (ft[:, None] + a.ticks[None, :]).ravel()
            v = (fv[:, None] + (wa * a.accuracy - a.penalty)[None, :]).ravel()
            ok = np.flatnonzero(t + rest[s + 1] <= sla)
            if len(ok) == 0:
                return None
            keep = ok[_skyline2(t[ok], v[ok])]
            back.append((keep // m, keep % m))
            ft, fv = t[keep], v[keep]
        return self._rebuild(arrays, back, int(np.argmax(fv)))

    # -- product PAS and/or budgets: k-dimensional Pareto labels ---------------------------------------
    def _choose_general(self, problem: Problem, arrays: list[_StageArrays]) -> Sequence[Option] | None:
        wa = problem.weights.accuracy
        product = problem.accuracy_method == "product"
        use_cores = problem.max_cores is not None
        use_power = problem.max_power_w is not None

        # Product PAS: a partial label's accuracy product A is later multiplied by X, the product of the
        # accuracies still to be chosen, which lies in [lo, hi]. The final value w_a*A*X - P - Q is linear in
        # X, so a label at least as good at X = lo and at X = hi is at least as good for every completion:
        # the criteria are P - w_a*A*hi and P - w_a*A*lo (weaker than requiring A >= and P <= separately).
        def criteria(
            t: I64, acc: F64, pen: F64, cores: I64, power: F64, lo: float = 1.0, hi: float = 1.0
        ) -> F64:
            cols: list[NDArray[np.generic]] = [t.astype(np.float64)]
            if product:
                cols.append(pen - wa * acc * hi)
                if lo != hi:
                    cols.append(pen - wa * acc * lo)
            else:
                cols.append(pen - wa * acc)
            if use_cores:
                cols.append(cores.astype(np.float64))
            if use_power:
                cols.append(power)
            return np.column_stack(cols)

        ranges = [(float(a.accuracy.min()), float(a.accuracy.max())) for a in arrays]
        pruned = []
        for s, a in enumerate(arrays):
            lo, hi = _interval_product(ranges[:s] + ranges[s + 1 :])
            pruned.append(a.take(_nondominated(criteria(a.ticks, a.accuracy, a.penalty, a.cores, a.power_w, lo, hi))))
        arrays = pruned
        ranges = [(float(a.accuracy.min()), float(a.accuracy.max())) for a in arrays]
        sla = problem.sla_ticks
        rest_t = np.cumsum([int(a.ticks.min()) for a in arrays[::-1]])[::-1].tolist() + [0]
        rest_c = np.cumsum([int(a.cores.min()) for a in arrays[::-1]])[::-1].tolist() + [0]
        rest_p = np.cumsum([float(a.power_w.min()) for a in arrays[::-1]])[::-1].tolist() + [0.0]
        power_cap = (
            problem.max_power_w * (1 + BUDGET_RTOL) + 1e-12 if problem.max_power_w is not None else math.inf
        )
        core_cap = problem.max_cores if problem.max_cores is not None else np.iinfo(np.int64).max // 4
        # Upper bound on the final value reachable from a partial label (for pruning against an incumbent)
        rest_best = np.cumsum([float((wa * a.accuracy - a.penalty).max()) for a in arrays[::-1]])[::-1].tolist()
        rest_pen = np.cumsum([float(a.penalty.min()) for a in arrays[::-1]])[::-1].tolist()
        rest_best.append(0.0)
        rest_pen.append(0.0)
        rest_x = [_interval_product(ranges[s + 1 :]) for s in range(len(arrays))]

        def upper_bound(s: int, acc: F64, pen: F64) -> F64:
            if product:
                lo, hi = rest_x[s]
                return wa * np.maximum(acc * lo, acc * hi) - pen - rest_pen[s + 1]
            return wa * acc - pen + rest_best[s + 1]

        def labels(beam: int | None, lower_bound: float) -> tuple[_Back, float] | None:
            """Stage-by-stage labels: exact (beam=None; pruned only by dominance and by the bound) or a beam
            of the ``beam`` most promising labels (a quick feasible incumbent). (back pointers, value)."""
            ft = np.zeros(1, dtype=np.int64)
            facc = np.ones(1) if product else np.zeros(1)
            fpen = np.zeros(1)
            fcores = np.zeros(1, dtype=np.int64)
            fpow = np.zeros(1)
            back: _Back = []
            for s, a in enumerate(arrays):
                m = len(a)
                t = (ft[:, None] + a.ticks[None, :]).ravel()
                acc = facc[:, None] * a.accuracy[None, :] if product else facc[:, None] + a.accuracy[None, :]
                acc = acc.ravel()
                pen = (fpen[:, None] + a.penalty[None, :]).ravel()
                ok_mask = t <= sla - rest_t[s + 1]
                if use_cores:
                    cores = (fcores[:, None] + a.cores[None, :]).ravel()
                    ok_mask &= cores + rest_c[s + 1] <= core_cap
                else:  # not a criterion: carried along unchanged (never read)
                    cores = fcores
                if use_power:
                    pw = (fpow[:, None] + a.power_w[None, :]).ravel()
                    ok_mask &= pw + rest_p[s + 1] <= power_cap
                else:
                    pw = fpow
                ub = upper_bound(s, acc, pen) if beam is not None or lower_bound > -math.inf else pen
                if lower_bound > -math.inf:
                    ok_mask &= ub >= lower_bound
                ok = np.flatnonzero(ok_mask)
                if len(ok) == 0:
                    return None
                if s == len(arrays) - 1:  # last stage: no front needed, just the best feasible label
                    keep = ok[[int(np.argmax(wa * acc[ok] - pen[ok]))]]
                elif beam is not None and len(ok) > beam:
                    keep = ok[np.argpartition(-ub[ok], beam)[:beam]]
                else:
                    lo, hi = rest_x[s]
                    c_ok = cores[ok] if use_cores else cores
                    p_ok = pw[ok] if use_power else pw
                    keep = ok[_nondominated(criteria(t[ok], acc[ok], pen[ok], c_ok, p_ok, lo, hi))]
                back.append((keep // m, keep % m))
                ft, facc, fpen = t[keep], acc[keep], pen[keep]
                if use_cores:
                    fcores = cores[keep]
                if use_power:
                    fpow = pw[keep]
            return back, float(wa * facc[0] - fpen[0])

        # An incumbent from a narrow beam lets the exact pass drop every label whose bound cannot reach it
        # (with a relative margin of 1e-9 for float rounding, so the optimum's own path always survives).
        incumbent = labels(BEAM_WIDTH, -math.inf)
        if incumbent is None:
            exact = labels(None, -math.inf)
        else:
            value = incumbent[1]
            exact = labels(None, value - 1e-9 * max(1.0, abs(value))) or incumbent
        if exact is None:
            return None
        return self._rebuild(arrays, exact[0], 0)

    @staticmethod
    def _rebuild(
        arrays: list[_StageArrays], back: list[tuple[NDArray[np.intp], NDArray[np.intp]]], label: int
    ) -> list[Option]:
        chosen: list[Option] = []
        for s in range(len(arrays) - 1, -1, -1):
            parent, opt = back[s]
            chosen.append(arrays[s].option(s, int(opt[label])))
            label = int(parent[label])
        chosen.reverse()
        return chosen
