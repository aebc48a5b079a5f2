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

Magnitudes: ticks are exact Python integers at any latency (1e300 s, or an infinite batch-fill
time at 5e-324 rps; see :func:`to_ticks`). Solvers with fixed-width arithmetic (dp's int64, HiGHS's
doubles) drop an option whose latency alone exceeds the SLA before converting it. Replica and core
counts above :data:`MAX_COUNT` cannot be represented exactly by every solver: all drop such options.
:func:`validate_problem` refuses, at the entry paths, what cannot be represented at all (non-finite
values, an SLA over :data:`MAX_SLA_S`, counts over :data:`MAX_COUNT`, an objective that overflows);
:func:`verify_decision` lists what a decision violates (the backstop for any solver).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from ipa_energy.errors import ConfigError
from ipa_energy.rules.scoring import pas, stage_power_w

AccuracyMethod = Literal["sum", "product"]
TICKS_PER_S = 1_000_000_000
#: Relative slack for the float budgets (max_power_w) so that equality is feasible in every solver.
BUDGET_RTOL = 1e-9
#: Largest replica or core count an option may have: float-exact (2**53), so HiGHS (doubles) and the
#: dp (int64 sums over stages) count exactly. Options needing more are not representable (dropped).
MAX_COUNT = 2**53
#: Longest SLA in seconds (about 31.7 years): partial sums of ticks stay well inside int64.
MAX_SLA_S = 1e9
#: Most stages a problem may have (sums of per-stage counts stay inside int64).
MAX_STAGES = 512


#: Ticks of an infinite latency (a batch-fill time past float range): above the ticks of every float.
INFINITE_TICKS = 10**400


def to_ticks(seconds: float) -> int:
    """Seconds -> integer nanoseconds (round half to even), the unit of every latency comparison.

    Exact at every magnitude: a product past float range is computed in rationals (Python ints have no
    upper bound) and +inf maps to :data:`INFINITE_TICKS`, so order is kept and nothing overflows.
    """
    x = seconds * TICKS_PER_S
    if math.isfinite(x):
        return int(round(x))
    if math.isfinite(seconds):
        return round(Fraction(seconds) * TICKS_PER_S)
    if seconds > 0:
        return INFINITE_TICKS
    raise ValueError(f"a latency must be a number >= 0 (got {seconds})")


def exact_decimal(x: float) -> Fraction:
    """The decimal the user wrote (shortest repr), not the binary float: 0.07 -> 7/100."""
    return Fraction(repr(float(x)))


def min_replicas(rate_rps: float, batch: int, latency_s: float) -> int:
    """Smallest n >= 1 with n * batch / latency_s >= rate_rps, free of float error.

    ``100 * 0.07`` is 7.000000000000001 in floats; here the inputs are read as the decimals they print as.
    The float path is used unless the quotient is within 1e-9 of an integer, where exact rationals decide.
    """
    q = rate_rps * latency_s / batch
    if not math.isfinite(q):  # the float product overflowed: exact rationals (a huge but exact count)
        return max(1, math.ceil(exact_decimal(rate_rps) * exact_decimal(latency_s) / batch))
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


def latency_ticks_within(latency_s: float, problem: Problem) -> int | None:
    """Ticks of one stage latency, or None when it alone exceeds the SLA (then it can never be feasible)."""
    ticks = to_ticks(latency_s)
    return ticks if ticks <= problem.sla_ticks else None


def _candidates(problem: Problem, stage_index: int) -> list[tuple[Variant, ProfilePoint, int, float]]:
    """(variant, point, replicas, stage latency_s) that respect fixed_*, the replica limit and the rate."""
    stage = problem.stages[stage_index]
    lam = problem.arrival_rate
    cap = stage.fixed_replicas if stage.fixed_replicas is not None else problem.max_replicas
    out = []
    for v in stage.variants:
        if stage.fixed_variant is not None and v.name != stage.fixed_variant:
            continue
        for p in v.profile:
            if stage.fixed_batch is not None and p.batch != stage.fixed_batch:
                continue
            need = min_replicas(lam, p.batch, p.latency_s)
            if need > cap:
                continue
            n = stage.fixed_replicas if stage.fixed_replicas is not None else need
            if n * v.cores > MAX_COUNT:
                continue
            out.append((v, p, n, p.latency_s + (p.batch - 1) / lam))
    return out


def stage_options(problem: Problem, stage_index: int) -> list[Option]:
    """Every option of one stage that respects fixed_*, max_replicas and the rate (dominated ones, and ones
    over the SLA on their own, kept: the fallback chooses among them)."""
    lam = problem.arrival_rate
    w = problem.weights
    out: list[Option] = []
    for v, p, n, latency_s in _candidates(problem, stage_index):
        ticks = to_ticks(latency_s)
        cores = n * v.cores
        power_w = stage_power_w(cores, problem.idle_power_w_per_core, lam, p.energy_j, p.batch)
        penalty = w.cost * cores + w.batch * p.batch + w.energy * power_w
        out.append(
            Option(stage_index, v.name, p.batch, n, v.accuracy, cores, latency_s, ticks, power_w, penalty)
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
        ticks = latency_ticks_within(latency_s, problem)
        if ticks is None:
            return infeasible(problem, solver, 0.0, f"stage {stage.name!r}: {latency_s:.6g} s alone exceeds the SLA")
        cores = n * v.cores
        power_w = stage_power_w(cores, problem.idle_power_w_per_core, lam, p.energy_j, batch)
        penalty = w.cost * cores + w.batch * batch + w.energy * power_w
        opts.append(Option(i, vname, batch, n, v.accuracy, cores, latency_s, ticks, power_w, penalty))
    if not is_feasible(problem, opts):
        return infeasible(problem, solver, 0.0, "configuration exceeds the SLA or a budget")
    return decide(problem, opts, solver, 0.0)


def diagnose_infeasible(problem: Problem) -> str:
    """Name the binding constraint of an infeasible problem (checked from the most specific)."""
    cands = [_candidates(problem, i) for i in range(len(problem.stages))]
    for stage, opts in zip(problem.stages, cands, strict=True):
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
    per_stage = [stage_options(problem, i) for i in range(len(problem.stages))]
    fastest = sum(min(o.latency_ticks for o in opts) for opts in per_stage)
    if fastest > problem.sla_ticks:
        fastest_s = fastest / TICKS_PER_S if fastest <= 2 * problem.sla_ticks else math.fsum(
            min(o.latency_s for o in opts) for opts in per_stage
        )  # (a sum past float range is reported in floats, possibly as inf)
        return (
            f"the fastest option per stage still exceeds the SLA: {fastest_s:.6g} s > "
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


# -- what a problem can represent, and what a decision violates -------------------------------------------
def _positive_finite(value: object, field: str, *, zero_ok: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"must be a number (got {type(value).__name__})", field=field)
    x = float(value)
    if not math.isfinite(x) or x < 0 or (x == 0 and not zero_ok):
        raise ConfigError(f"must be a finite number {'>= 0' if zero_ok else '> 0'} (got {value})", field=field)
    return x


def _count(value: object, field: str, limit: int = MAX_COUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise ConfigError(f"must be an integer in 1..{limit} (got {value!r})", field=field)
    return value


def validate_problem(problem: Problem) -> Problem:
    """Refuse, with a ConfigError naming the field, a problem that cannot be represented exactly.

    Non-finite or non-positive rates, latencies, SLAs; counts over :data:`MAX_COUNT` (max_replicas x the
    largest cores per replica included); an SLA over :data:`MAX_SLA_S`; duplicate stage, variant or batch
    names; fixed_* that name nothing; powers or an objective that overflow a float. Returns the problem.
    """
    lam = _positive_finite(problem.arrival_rate, "arrival_rate")
    sla = _positive_finite(problem.sla_s, "sla_s")
    if sla > MAX_SLA_S:
        raise ConfigError(f"must be at most {MAX_SLA_S:g} s (got {problem.sla_s})", field="sla_s")
    if not 1 <= len(problem.stages) <= MAX_STAGES:
        raise ConfigError(f"must hold 1..{MAX_STAGES} stages (got {len(problem.stages)})", field="stages")
    _count(problem.max_replicas, "max_replicas")
    idle = _positive_finite(problem.idle_power_w_per_core, "idle_power_w_per_core", zero_ok=True)
    w = problem.weights
    wa, wc, wb, we = (
        _positive_finite(getattr(w, k), f"weights.{k}", zero_ok=True) for k in ("accuracy", "cost", "batch", "energy")
    )
    if problem.max_cores is not None:
        _count(problem.max_cores, "max_cores")
    if problem.max_power_w is not None:
        _positive_finite(problem.max_power_w, "max_power_w")
    names = [s.name for s in problem.stages]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ConfigError(f"duplicate stage name {dup!r}", field="stages")
    bound = 0.0  # |objective| <= bound: it must stay a finite float
    acc_hi: list[float] = []
    for i, st in enumerate(problem.stages):
        where = f"stages[{i}]"
        if not st.variants:
            raise ConfigError("must list at least one variant", field=f"{where}.variants")
        vnames = [v.name for v in st.variants]
        if len(set(vnames)) != len(vnames):
            raise ConfigError(f"duplicate variant names {vnames}", field=f"{where}.variants")
        if st.fixed_variant is not None and st.fixed_variant not in vnames:
            raise ConfigError(f"{st.fixed_variant!r} is not one of {vnames}", field=f"{where}.fixed_variant")
        if st.fixed_batch is not None:
            _count(st.fixed_batch, f"{where}.fixed_batch")
        cap = _count(st.fixed_replicas, f"{where}.fixed_replicas") if st.fixed_replicas is not None else (
            problem.max_replicas
        )
        worst = 0.0
        accs = []
        for j, v in enumerate(st.variants):
            vw = f"{where}.variants[{j}]"
            accs.append(_positive_finite(v.accuracy, f"{vw}.accuracy", zero_ok=True))
            _count(v.cores, f"{vw}.cores")
            if cap * v.cores > MAX_COUNT:
                field = f"{where}.fixed_replicas" if st.fixed_replicas is not None else "max_replicas"
                raise ConfigError(
                    f"{cap} replicas x {v.cores} cores of {v.name!r} exceed {MAX_COUNT} (2**53), the largest "
                    "count every solver represents exactly", field=field,
                )
            if not v.profile:
                raise ConfigError("must list at least one batch", field=f"{vw}.profile")
            batches = [p.batch for p in v.profile]
            if len(set(batches)) != len(batches):
                raise ConfigError(f"duplicate batch sizes {batches}", field=f"{vw}.profile")
            for k, p in enumerate(v.profile):
                pw = f"{vw}.profile[{k}]"
                b = _count(p.batch, f"{pw}.batch")
                _positive_finite(p.latency_s, f"{pw}.latency_s")
                e = _positive_finite(p.energy_j, f"{pw}.energy_j", zero_ok=True)
                dyn_w = lam * e / b
                if not math.isfinite(dyn_w):
                    raise ConfigError(
                        f"arrival_rate x energy_j / batch = {lam} x {e} / {b} overflows a float", field=f"{pw}.energy_j"
                    )
                cores = float(cap * v.cores)
                worst = max(worst, wc * cores + wb * b + we * (cores * idle + dyn_w))
        acc_hi.append(max(accs))
        bound += worst
    pas_hi = math.prod(acc_hi) if problem.accuracy_method == "product" else math.fsum(acc_hi)
    bound += wa * pas_hi
    if not math.isfinite(bound):
        raise ConfigError(
            "the objective (weights x accuracy, cores, batch, power) overflows a float at these magnitudes",
            field="weights",
        )
    return problem


def verify_decision(problem: Problem, decision: Decision) -> list[str]:
    """Every way a feasible decision breaks the problem (empty when it is sound; an infeasible decision
    must carry no stages): unknown stage/variant/batch, replicas < 1 or over the limit, fixed_* ignored,
    capacity below the rate, end-to-end latency over the SLA, budgets exceeded."""
    if not decision.feasible:
        return [] if not decision.stages else ["an infeasible decision lists stages"]
    out: list[str] = []
    if len(decision.stages) != len(problem.stages):
        return [f"{len(decision.stages)} stage choices for {len(problem.stages)} stages"]
    lam = problem.arrival_rate
    ticks = 0
    cores = 0
    power_w = 0.0
    for stage, sc in zip(problem.stages, decision.stages, strict=True):
        if sc.name != stage.name:
            out.append(f"stage {stage.name!r}: decision names stage {sc.name!r}")
        v = next((v for v in stage.variants if v.name == sc.variant), None)
        if v is None:
            out.append(f"stage {stage.name!r}: unknown variant {sc.variant!r}")
            continue
        p = next((p for p in v.profile if p.batch == sc.batch), None)
        if p is None:
            out.append(f"stage {stage.name!r}: variant {sc.variant!r} has no profile for batch {sc.batch}")
            continue
        n = sc.replicas
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            out.append(f"stage {stage.name!r}: replicas {n!r} < 1")
            continue
        for attr, got in (("fixed_variant", sc.variant), ("fixed_batch", sc.batch), ("fixed_replicas", n)):
            want = getattr(stage, attr)
            if want is not None and got != want:
                out.append(f"stage {stage.name!r}: {attr} is {want!r}, decision has {got!r}")
        if stage.fixed_replicas is None and n > problem.max_replicas:
            out.append(f"stage {stage.name!r}: {n} replicas > max_replicas={problem.max_replicas}")
        if not sustains(n, lam, sc.batch, p.latency_s):
            out.append(
                f"stage {stage.name!r}: capacity {n} x {sc.batch} / {p.latency_s} s = "
                f"{n * sc.batch / p.latency_s:.6g} rps is below the rate {lam} rps"
            )
        latency_s = p.latency_s + (sc.batch - 1) / lam
        t = latency_ticks_within(latency_s, problem)
        ticks += t if t is not None else problem.sla_ticks + 1
        cores += n * v.cores
        power_w += stage_power_w(n * v.cores, problem.idle_power_w_per_core, lam, p.energy_j, sc.batch)
    if ticks > problem.sla_ticks:
        out.append(f"end-to-end latency {ticks / TICKS_PER_S:.6g} s exceeds sla_s={problem.sla_s}")
    if not problem.cores_ok(cores):
        out.append(f"{cores} cores exceed max_cores={problem.max_cores}")
    if not problem.power_ok(power_w):
        out.append(f"{power_w:.6g} W exceeds max_power_w={problem.max_power_w}")
    return out
