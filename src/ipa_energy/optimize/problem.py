"""The canonical decision problem and its exact evaluation (the contract of ``ipa-energy solve``).

For stage s, variant v, batch b with profile latency l (s) and dynamic energy e (J per batch):

* replicas n = the smallest integer >= 1 with n * b / l >= lambda (exact; see :func:`min_replicas`),
  at most ``max_replicas`` (or exactly ``fixed_replicas`` when set, which must sustain lambda);
* stage latency = l + (b - 1) / lambda (processing plus the time to fill a batch at rate lambda);
* stage cost = n * cores_v; stage power_w = n * cores_v * idle_power_w_per_core + lambda * e / b;
* end-to-end latency = sum over stages <= sla_s;
* PAS = sum of variant accuracies ("sum") or their product ("product");
* maximise w.accuracy * PAS - w.cost * cost - w.batch * sum(b) - w.energy * power_w,
  subject to the optional pipeline budgets ``max_cores`` and ``max_power_w``.

Latency comparisons are made in integer nanosecond ticks (each stage's latency rounded once), so every
solver sees the same feasibility, whatever order it sums in; SLA equality is feasible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from ipa_energy.rules.scoring import pas, stage_power_w

AccuracyMethod = Literal["sum", "product"]
TICKS_PER_S = 1_000_000_000
#: Relative slack for the float budgets (max_power_w) so that equality is feasible in every solver.
BUDGET_RTOL = 1e-9


def to_ticks(seconds: float) -> int:
    """Seconds -> integer nanoseconds (round half to even), the unit of every latency comparison."""
    return int(round(seconds * TICKS_PER_S))


def exact_decimal(x: float) -> Fraction:
    """The decimal the user wrote (shortest repr), not the binary float: 0.07 -> 7/100."""
    return Fraction(repr(float(x)))


def min_replicas(rate_rps: float, batch: int, latency_s: float) -> int:
    """Smallest n >= 1 with n * batch / latency_s >= rate_rps, free of float error.

    ``100 * 0.07`` is 7.000000000000001 in floats; here the inputs are read as the decimals they print as.
    The float path is used unless the quotient is within 1e-9 of an integer, where exact rationals decide.
    """
    q = rate_rps * latency_s / batch
    n = math.ceil(q)
    if abs(q - round(q)) <= 1e-9 * max(1.0, q):
        n = math.ceil(exact_decimal(rate_rps) * exact_decimal(latency_s) / batch)
    return max(1, n)


def sustains(replicas: int, rate_rps: float, batch: int, latency_s: float) -> bool:
    """Whether ``replicas`` replicas of ``batch`` per ``latency_s`` keep up with ``rate_rps``."""
    return replicas >= min_replicas(rate_rps, batch, latency_s)


@dataclass(frozen=True)
class ProfilePoint:
    batch: int
    latency_s: float
    energy_j: float


@dataclass(frozen=True)
class Variant:
    name: str
    accuracy: float
    cores: int
    profile: tuple[ProfilePoint, ...]


@dataclass(frozen=True)
class Stage:
    name: str
    variants: tuple[Variant, ...]
    fixed_variant: str | None = None
    fixed_batch: int | None = None
    fixed_replicas: int | None = None


@dataclass(frozen=True)
class Weights:
    accuracy: float = 1.0
    cost: float = 0.0
    batch: float = 0.0
    energy: float = 0.0


@dataclass(frozen=True)
class Problem:
    arrival_rate: float
    sla_s: float
    stages: tuple[Stage, ...]
    max_replicas: int = 100
    accuracy_method: AccuracyMethod = "sum"
    idle_power_w_per_core: float = 0.0
    weights: Weights = field(default_factory=Weights)
    max_cores: int | None = None
    max_power_w: float | None = None

    @property
    def sla_ticks(self) -> int:
        return to_ticks(self.sla_s)

    def power_ok(self, power_w: float) -> bool:
        return self.max_power_w is None or power_w <= self.max_power_w * (1 + BUDGET_RTOL) + 1e-12

    def cores_ok(self, cores: int) -> bool:
        return self.max_cores is None or cores <= self.max_cores


@dataclass(frozen=True)
class Option:
    """One feasible (variant, batch, replicas) choice for one stage, with everything the solvers need."""

    stage_index: int
    variant: str
    batch: int
    replicas: int
    accuracy: float
    cores: int  # replicas * cores per replica
    latency_s: float
    latency_ticks: int
    power_w: float
    #: w.cost*cores + w.batch*batch + w.energy*power_w: the part of the objective that is a sum in both modes
    penalty: float


def stage_options(problem: Problem, stage_index: int) -> list[Option]:
    """Every option of one stage that respects fixed_*, max_replicas and the rate (dominated ones kept)."""
    stage = problem.stages[stage_index]
    lam = problem.arrival_rate
    w = problem.weights
    out: list[Option] = []
    for v in stage.variants:
        if stage.fixed_variant is not None and v.name != stage.fixed_variant:
            continue
        for p in v.profile:
            if stage.fixed_batch is not None and p.batch != stage.fixed_batch:
                continue
            need = min_replicas(lam, p.batch, p.latency_s)
            if stage.fixed_replicas is not None:
                if need > stage.fixed_replicas:
                    continue
                n = stage.fixed_replicas
            else:
                if need > problem.max_replicas:
                    continue
                n = need
            latency_s = p.latency_s + (p.batch - 1) / lam
            cores = n * v.cores
            power_w = stage_power_w(cores, problem.idle_power_w_per_core, lam, p.energy_j, p.batch)
            penalty = w.cost * cores + w.batch * p.batch + w.energy * power_w
            out.append(
                Option(
                    stage_index, v.name, p.batch, n, v.accuracy, cores, latency_s,
                    to_ticks(latency_s), power_w, penalty,
                )
            )
    return out


@dataclass(frozen=True)
class StageChoice:
    name: str
    variant: str
    batch: int
    replicas: int
    latency_s: float
    power_w: float
    cost_cores: int
    accuracy: float


@dataclass(frozen=True)
class Decision:
    """A solver's answer, carrying its own evaluation. ``stages`` is empty when infeasible."""

    feasible: bool
    solver: str
    objective: float | None
    solve_time_s: float
    pas: float | None = None
    cost_cores: int | None = None
    power_w: float | None = None
    latency_s: float | None = None
    stages: tuple[StageChoice, ...] = ()
    reason: str | None = None

    def to_json(self) -> dict[str, object]:
        d: dict[str, object] = {
            "feasible": self.feasible,
            "solver": self.solver,
            "objective": self.objective,
            "solve_time_s": self.solve_time_s,
            "pas": self.pas,
            "cost_cores": self.cost_cores,
            "power_w": self.power_w,
            "latency_s": self.latency_s,
            "stages": [
                {
                    "name": s.name,
                    "variant": s.variant,
                    "batch": s.batch,
                    "replicas": s.replicas,
                    "latency_s": s.latency_s,
                    "power_w": s.power_w,
                }
                for s in self.stages
            ],
        }
        if not self.feasible:
            d["reason"] = self.reason
        return d


def same_optimum(a: Decision, ref: Decision, rel_tol: float = 1e-9) -> bool:
    """Whether two decisions agree: both infeasible, or both feasible with objectives within ``rel_tol``
    (relative to max(1, |ref|)). Solvers may pick different configurations of equal value."""
    if a.feasible != ref.feasible:
        return False
    if not a.feasible:
        return True
    assert a.objective is not None and ref.objective is not None
    return abs(a.objective - ref.objective) <= rel_tol * max(1.0, abs(ref.objective))


def pas_of(problem: Problem, accuracies: list[float] | tuple[float, ...]) -> float:
    return pas(accuracies, problem.accuracy_method)


def objective_of(problem: Problem, options: Sequence[Option]) -> float:
    pas = pas_of(problem, [o.accuracy for o in options])
    return problem.weights.accuracy * pas - math.fsum(o.penalty for o in options)


def is_feasible(problem: Problem, options: Sequence[Option]) -> bool:
    if sum(o.latency_ticks for o in options) > problem.sla_ticks:
        return False
    if not problem.cores_ok(sum(o.cores for o in options)):
        return False
    return problem.power_ok(math.fsum(o.power_w for o in options))


def decide(
    problem: Problem, options: Sequence[Option], solver: str, solve_time_s: float
) -> Decision:
    """Evaluate a full choice (one option per stage) into a Decision."""
    return Decision(
        feasible=True,
        solver=solver,
        objective=objective_of(problem, options),
        solve_time_s=solve_time_s,
        pas=pas_of(problem, [o.accuracy for o in options]),
        cost_cores=sum(o.cores for o in options),
        power_w=math.fsum(o.power_w for o in options),
        latency_s=math.fsum(o.latency_s for o in options),
        stages=tuple(
            StageChoice(
                problem.stages[o.stage_index].name, o.variant, o.batch, o.replicas, o.latency_s,
                o.power_w, o.cores, o.accuracy,
            )
            for o in options
        ),
    )


def infeasible(problem: Problem, solver: str, solve_time_s: float, reason: str | None = None) -> Decision:
    return Decision(
        feasible=False,
        solver=solver,
        objective=None,
        solve_time_s=solve_time_s,
        reason=reason if reason is not None else diagnose_infeasible(problem),
    )


def evaluate(problem: Problem, choice: list[tuple[str, int, int]], solver: str = "evaluate") -> Decision:
    """Evaluate a configuration given as (variant, batch, replicas) per stage, e.g. the one running now.

    Raises ValueError when a variant/batch is not in the profile; an infeasible configuration (too slow,
    too few replicas, over a budget) returns ``feasible=False`` with the reason.
    """
    opts: list[Option] = []
    lam = problem.arrival_rate
    w = problem.weights
    for i, (stage, (vname, batch, n)) in enumerate(zip(problem.stages, choice, strict=True)):
        v = next((v for v in stage.variants if v.name == vname), None)
        if v is None:
            raise ValueError(f"stage {stage.name!r} has no variant {vname!r}")
        p = next((p for p in v.profile if p.batch == batch), None)
        if p is None:
            raise ValueError(f"stage {stage.name!r} variant {vname!r} has no profile for batch {batch}")
        if not sustains(n, lam, batch, p.latency_s):
            return infeasible(
                problem, solver, 0.0,
                f"stage {stage.name!r}: {n} replicas of {vname} at batch {batch} cannot sustain {lam} rps",
            )
        latency_s = p.latency_s + (batch - 1) / lam
        cores = n * v.cores
        power_w = cores * problem.idle_power_w_per_core + lam * p.energy_j / batch
        penalty = w.cost * cores + w.batch * batch + w.energy * power_w
        opts.append(
            Option(i, vname, batch, n, v.accuracy, cores, latency_s, to_ticks(latency_s), power_w, penalty)
        )
    if not is_feasible(problem, opts):
        return infeasible(problem, solver, 0.0, "configuration exceeds the SLA or a budget")
    return decide(problem, opts, solver, 0.0)


def diagnose_infeasible(problem: Problem) -> str:
    """Name the binding constraint of an infeasible problem (checked from the most specific)."""
    per_stage = [stage_options(problem, i) for i in range(len(problem.stages))]
    for stage, opts in zip(problem.stages, per_stage, strict=True):
        if not opts:
            if stage.fixed_replicas is not None:
                return (
                    f"stage {stage.name!r} cannot reach the rate {problem.arrival_rate} rps with "
                    f"fixed_replicas={stage.fixed_replicas}"
                )
            return (
                f"stage {stage.name!r} cannot reach the rate {problem.arrival_rate} rps within "
                f"max_replicas={problem.max_replicas}"
            )
    fastest = sum(min(o.latency_ticks for o in opts) for opts in per_stage)
    if fastest > problem.sla_ticks:
        return (
            f"the fastest option per stage still exceeds the SLA: {fastest / TICKS_PER_S:.6g} s > "
            f"sla_s={problem.sla_s}"
        )
    if problem.max_cores is not None:
        least = sum(min(o.cores for o in opts) for opts in per_stage)
        if least > problem.max_cores:
            return f"the fewest cores per stage still exceed max_cores: {least} > {problem.max_cores}"
    if problem.max_power_w is not None:
        least_w = math.fsum(min(o.power_w for o in opts) for opts in per_stage)
        if not problem.power_ok(least_w):
            return (
                f"the lowest power per stage still exceeds max_power_w: {least_w:.6g} W > "
                f"{problem.max_power_w}"
            )
    return "no combination meets the SLA and the budgets together (each alone can be met)"
