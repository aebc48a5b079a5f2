"""IPA's own integer program on HiGHS, with the queueing term done right: the faithful baseline.

Variables per stage s (as in IPA's Gurobi model, ``optimizer.gurobi_optmizer``):

* i_{s,v} binary: variant v is active;   b_{s,k} binary: batch size k is active;
* z_{s,v,k} binary = i_{s,v} AND b_{s,k} (IPA's ``aux_batch``), one per profiled (v, k):
  z <= i, z <= b, z >= i + b - 1, and sum_{v,k} z = 1 (only profiled pairs can be chosen; IPA padded
  missing pairs with a dummy latency of 1000 s instead);
* n_s integer replicas in [1, max_replicas] (or fixed to ``fixed_replicas``);
* m_{s,v} integer = n_s * i_{s,v} (the product in IPA's resource objective cores_v * n_s * i_{s,v}),
  linearised: m <= R i, m <= n, m >= n - R (1 - i), with R the upper bound of n_s.

Constraints:

* one variant and one batch per stage: sum_v i = 1, sum_k b = 1;
* throughput (IPA: the indicator ``z == 1  >>  n_s * h(v,k) >= lambda``): n_s >= need(v,k) * z_{s,v,k}
  with need = ``min_replicas`` (the smallest integer n with n * k / l >= lambda, computed exactly). As n_s
  is an integer this is the same set as the big-M form n_s * h >= lambda * z, without the float error of
  h = k / l and without a tolerance that could accept one replica too few;
* latency: sum_s [ sum_{v,k} l(v,k) z_{s,v,k} + sum_k (k - 1) / lambda * b_{s,k} ] <= SLA, in integer
  ticks (see below);
* budgets: sum cores_v m_{s,v} <= max_cores; idle_w * sum cores_v m + sum lambda e(v,k) / k z <= max_power_w.

Objective: w_a PAS - w_c sum cores_v m - w_b sum k b_{s,k} - w_e power, identical to the canonical one
(PAS "sum": sum acc_v i_{s,v}; "product": the exact disaggregated product over i, see ``milp``).

IPA's bug, fixed here: IPA wrote the queueing term as ``func_q(b[stage, batch], arrival_rate)`` inside the
sum over stages x variants x batches, i.e. (b_{s,k} - 1) / lambda with b_{s,k} the *binary*, not the
batch size. That adds 0 for the chosen batch and -1/lambda for every other (variant, batch) pair, so the
"latency" it constrained was below the real one and the SLA was loosened (more so the more variants and
batches a stage has). Here the term is (k - 1) / lambda times the batch binary b_{s,k}, counted once per
stage.

Exactness: the latency row is written in integer ticks: z_{s,v,k} gets ticks(l + (k-1)/lambda) minus
ticks((k-1)/lambda), b_{s,k} gets ticks((k-1)/lambda), so every choice sums to exactly the canonical
per-stage ticks; the row is divided by the gcd of its coefficients. Gaps are 0 and answers are re-checked
and cut off when only a tolerance made them feasible, as in ``milp``. The replica count reported is the
canonical (smallest sufficient) one for the chosen variant and batch: with non-negative weights it is
never worse than the model's n_s.

This model is intentionally IPA's shape (many more variables and rows than the compact one) and is slow;
``time_limit_s`` caps it and raises :class:`SolverTimeLimit` when hit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ipa_energy.optimize.problem import Option, Problem, is_feasible, min_replicas, stage_options, to_ticks
from ipa_energy.optimize.solvers.base import Solver
from ipa_energy.optimize.solvers.milp import (
    MAX_RESOLVES,
    Deadline,
    LinearModel,
    SolverError,
    add_product_pas,
    power_cap_w,
    scaled_integer_row,
)

#: Largest replica count IPA's layout is solved with (its big-M rows m >= n - R (1 - i) carry R = that
#: count; past about 1e15 HiGHS returns wrong statuses). Larger needs raise SolverError, never a guess.
MAX_REPLICAS = 10**12


class IPAMILPSolver(Solver):
    """Exact; IPA's variable layout. ``time_limit_s`` (None = none) raises SolverTimeLimit when hit."""

    name = "ipa-milp"

    def __init__(self, time_limit_s: float | None = None) -> None:
        import highspy  # noqa: F401  (loaded once here: solve_time_s measures decisions, not the import)

        self.time_limit_s = time_limit_s

    def _choose(self, problem: Problem) -> Sequence[Option] | None:
        deadline = Deadline(self.name, self.time_limit_s)
        lam = problem.arrival_rate
        w = problem.weights
        idle_w = problem.idle_power_w_per_core
        model = LinearModel()
        product = problem.accuracy_method == "product"

        latency_terms: list[tuple[int, int]] = []  # (column, ticks)
        core_terms: list[tuple[int, float]] = []  # (m column, cores per replica)
        power_terms: list[tuple[int, float]] = []  # (column, W)
        z_of_stage: list[list[tuple[int, str, int]]] = []  # (z column, variant, batch)
        pas_selectors: list[list[tuple[int, float]]] = []
        # The canonical options (rate, replica limit and the SLA alone already applied): a profiled (v, k)
        # outside them gets z = 0, so no huge need or latency coefficient ever reaches HiGHS.
        sla = problem.sla_ticks
        options = [
            {(o.variant, o.batch): o for o in stage_options(problem, s) if o.latency_ticks <= sla}
            for s in range(len(problem.stages))
        ]
        if not all(options):
            return None
        for stage, usable in zip(problem.stages, options, strict=True):
            if stage.fixed_replicas is not None:
                n_lo = n_hi = stage.fixed_replicas
            else:  # no more replicas than the most any usable option needs (a tight big-M below)
                n_lo, n_hi = 1, max(o.replicas for o in usable.values())
            if n_hi > MAX_REPLICAS:
                raise SolverError(
                    f"{self.name}: stage {stage.name!r} may need {n_hi} replicas; IPA's big-M rows are solved "
                    f"exactly by HiGHS only up to {MAX_REPLICAS:.0e} (use dp or milp)"
                )
            n = model.var(n_lo, n_hi, integer=True)

            i_cols: dict[str, int] = {}
            for v in stage.variants:
                fixed_out = stage.fixed_variant is not None and v.name != stage.fixed_variant
                i_cols[v.name] = model.var(0, 0 if fixed_out else 1, w.accuracy * v.accuracy * (not product),
                                           integer=True)
                m = model.var(0, n_hi, -(w.cost + w.energy * idle_w) * v.cores, integer=True)
                model.row(-math.inf, 0, [m, i_cols[v.name]], [1, -n_hi])  # m <= R i
                model.row(-math.inf, 0, [m, n], [1, -1])  # m <= n
                model.row(-n_hi, math.inf, [m, n, i_cols[v.name]], [1, -1, -n_hi])  # m >= n - R(1 - i)
                core_terms.append((m, v.cores))
                power_terms.append((m, idle_w * v.cores))
            model.row(1, 1, list(i_cols.values()), [1] * len(i_cols))

            batches = sorted({p.batch for v in stage.variants for p in v.profile})
            b_cols: dict[int, int] = {}
            usable_batches = {k for _, k in usable}
            for k in batches:
                fixed_out = k not in usable_batches
                b_cols[k] = model.var(0, 0 if fixed_out else 1, -w.batch * k, integer=True)
                latency_terms.append((b_cols[k], 0 if fixed_out else to_ticks((k - 1) / lam)))
            model.row(1, 1, list(b_cols.values()), [1] * len(b_cols))

            zs: list[tuple[int, str, int]] = []
            for v in stage.variants:
                iv = i_cols[v.name]
                for p in v.profile:
                    opt = usable.get((v.name, p.batch))
                    if opt is None:  # out of the limits, or alone over the SLA: never chosen
                        continue
                    dyn_w = lam * p.energy_j / p.batch
                    z = model.binary(-w.energy * dyn_w)
                    bk = b_cols[p.batch]
                    model.row(-math.inf, 0, [z, iv], [1, -1])  # z <= i
                    model.row(-math.inf, 0, [z, bk], [1, -1])  # z <= b
                    model.row(-1, math.inf, [z, iv, bk], [1, -1, -1])  # z >= i + b - 1
                    need = min_replicas(lam, p.batch, p.latency_s)
                    model.row(0, math.inf, [n, z], [1, -need])  # n >= need * z (throughput)
                    q_ticks = to_ticks((p.batch - 1) / lam)
                    latency_terms.append((z, opt.latency_ticks - q_ticks))
                    power_terms.append((z, dyn_w))
                    zs.append((z, v.name, p.batch))
            model.row(1, 1, [z for z, _, _ in zs], [1] * len(zs))
            z_of_stage.append(zs)
            pas_selectors.append([(i_cols[v.name], v.accuracy) for v in stage.variants])

        coefs, rhs = scaled_integer_row([t for _, t in latency_terms], problem.sla_ticks)
        model.row(-math.inf, rhs, [c for c, _ in latency_terms], coefs)
        if problem.max_cores is not None:
            model.row(-math.inf, problem.max_cores, [c for c, _ in core_terms], [k for _, k in core_terms])
        if problem.max_power_w is not None:
            model.row(-math.inf, power_cap_w(problem), [c for c, _ in power_terms],
                      [k for _, k in power_terms])
        if product:
            add_product_pas(model, pas_selectors, w.accuracy)

        for _ in range(MAX_RESOLVES):
            x = model.solve(deadline)
            if x is None:
                return None
            chosen = [max(zs, key=lambda t: x[t[0]]) for zs in z_of_stage]
            choice = [opts.get((v, k)) for (_, v, k), opts in zip(chosen, options, strict=True)]
            if all(o is not None for o in choice):
                full = [o for o in choice if o is not None]
                if is_feasible(problem, full):
                    return full
            # feasible only within HiGHS's tolerance: forbid exactly this combination and re-solve
            model.row(-math.inf, len(chosen) - 1, [z for z, _, _ in chosen], [1] * len(chosen))
        raise SolverError(f"{self.name}: no exactly feasible answer after {MAX_RESOLVES} re-solves")
